import Foundation

/// `tune plot`: accuracy against latency, RAM or flash for one or more runs, drawn by gnuplot.
///
/// Nothing is drawn here: a gnuplot script (`FILE.gp`) and its data (`FILE-run1.dat`, ...,
/// `FILE-peers.dat`) are written beside the figure and kept, so a figure can be restyled by editing
/// the script and running `gnuplot FILE.gp` in its directory. Runs of several models (or a batch
/// directory) give one figure per model, `FILE-MODEL.EXT`, and an overview in `FILE.EXT` with a
/// panel per model.
public struct ParetoPlot: Sendable {
    public enum XAxis: String, CaseIterable, Sendable {
        case latency, ram, flash
    }

    public enum YAxis: String, CaseIterable, Sendable {
        case val, test
    }

    /// The figure formats, by extension.
    public static let extensions = ["png", "svg", "pdf"]

    public var x: XAxis
    public var y: YAxis

    public init(x: XAxis = .latency, y: YAxis = .val) {
        self.x = x
        self.y = y
    }

    public struct Output: Sendable {
        /// The figures, per model first and the overview last.
        public var figures: [String] = []
        public var scripts: [String] = []
        public var dataFiles: [String] = []
        /// What is not on the figures, and why.
        public var notes: [String] = []
    }

    /// The figure's extension, if gnuplot is asked to write that format.
    public static func figureFormat(_ path: String) throws(ExperimentsError) -> String {
        let ext = (path as NSString).pathExtension.lowercased()
        guard extensions.contains(ext) else { throw .unsupportedFigure(path: path, allowed: extensions) }
        return ext
    }

    /// Writes the scripts and data, then has gnuplot draw them (found on the PATH of `environment`).
    public func draw(_ collection: RunCollection, to path: String,
                     environment: [String: String] = ProcessInfo.processInfo.environment) throws(ExperimentsError) -> Output {
        let output = try write(collection, to: path)
        let gnuplot = try Gnuplot.locate(environment: environment)
        for script in output.scripts { try gnuplot.render(script: script) }
        return output
    }

    /// Writes the scripts and data of the figures for `collection` beside `path`.
    public func write(_ collection: RunCollection, to path: String) throws(ExperimentsError) -> Output {
        let ext = try Self.figureFormat(path)
        var output = Output()
        var runs = collection.runs.filter { $0.logPath != nil }
        guard !runs.isEmpty else { throw .nothingToPlot(reason: "none of the inputs has a search log yet") }
        if x == .latency {
            for run in runs where run.clockHz == nil {
                output.notes.append("\(run.id): not drawn on latency: the clock of target '\(run.target ?? "?")' is unknown (try --x ram)")
            }
            runs = runs.filter { $0.clockHz != nil }
        }
        let directory = (path as NSString).deletingLastPathComponent
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let models = PlotPanel.unique(runs.map { $0.model ?? "?" })
        var panels: [(figure: String, panel: PlotPanel)] = []
        if collection.hasBatch {
            // A batch has many runs per model: a figure per model and board (boards have their own
            // clocks), and in it one run per strategy and budget, the lowest seed, so the legend stays
            // readable; `tune report` gives the spread over the seeds.
            for model in models {
                let ofModel = runs.filter { ($0.model ?? "?") == model }
                for target in PlotPanel.unique(ofModel.map { $0.target ?? "?" }) {
                    let group = Self.lowestSeeds(ofModel.filter { ($0.target ?? "?") == target })
                    let fileStem = "\(stem)-\(Self.fileName(model))-\(Self.fileName(target))"
                    let panel = self.panel(group, peers: collection.peers, fileStem: fileStem)
                    if panel.hasData { panels.append(("\(fileStem).\(ext)", panel)) } else { output.notes.append("\(model) on \(target): nothing to draw") }
                }
            }
            output.notes.append("batch: each figure draws one run per strategy and RAM budget (the lowest seed); `tune report` gives the spread over seeds")
        } else if models.count > 1 {
            for model in models {
                let fileStem = "\(stem)-\(Self.fileName(model))"
                let panel = self.panel(runs.filter { ($0.model ?? "?") == model }, peers: collection.peers, fileStem: fileStem)
                if panel.hasData { panels.append(("\(fileStem).\(ext)", panel)) } else { output.notes.append("\(model): nothing to draw") }
            }
        } else {
            let panel = self.panel(runs, peers: collection.peers, fileStem: stem)
            if panel.hasData { panels.append(("\(stem).\(ext)", panel)) }
        }
        guard !panels.isEmpty else {
            throw .nothingToPlot(reason: y == .test ? "no run has a pick with a test accuracy (an unfinished run has none); try --y val"
                : "no run has a scored candidate (one that has just started has none; a log whose candidate lines could not be read neither: see the warnings)")
        }
        if y == .test { output.notes.append("--y test: only the picks and the float model have a test accuracy; candidates and baselines are not drawn") }
        for (figure, panel) in panels {
            try writeData(panel, in: directory, output: &output)
            let script = header(figure, panels: [panel]) + terminal(ext, columns: 1, rows: 1)
                + "set output \(Gnuplot.quoted(figure))\n" + panel.commands().joined(separator: "\n") + "\n"
            try write(script, to: Self.path(directory, (figure as NSString).deletingPathExtension + ".gp"), output: &output, script: true)
            output.figures.append(Self.path(directory, figure))
        }
        if panels.count > 1 || collection.hasBatch {
            try writeOverview(panels.map(\.panel), figure: "\(stem).\(ext)", ext: ext, directory: directory, output: &output)
        }
        return output
    }

    private func panel(_ runs: [RunRecord], peers: [PeerResult], fileStem: String) -> PlotPanel {
        let models = Set(runs.compactMap(\.model)), targets = Set(runs.compactMap(\.target))
        return PlotPanel(runs: runs, peers: peers.filter { $0.applies(models: models, targets: targets) }, x: x, y: y, fileStem: fileStem)
    }

    /// One figure with a panel per model (gnuplot's multiplot), from the per-model figures' data.
    private func writeOverview(_ panels: [PlotPanel], figure: String, ext: String, directory: String,
                               output: inout Output) throws(ExperimentsError) {
        // A batch's panels are models x boards: a row per model, a column per board.
        let boards = PlotPanel.unique(panels.flatMap { $0.entries.compactMap { $0.series.run.target } }).count
        let columns = panels.count == 1 ? 1 : min(max(2, boards), 4), rows = (panels.count + columns - 1) / columns
        var script = header(figure, panels: panels) + terminal(ext, columns: columns, rows: rows)
        script += "set output \(Gnuplot.quoted(figure))\n"
        script += "set multiplot layout \(rows),\(columns) title \(Gnuplot.quoted(boards > 1 ? "Pareto fronts of \(panels.count) models x boards" : "Pareto fronts of \(panels.count) model\(panels.count == 1 ? "" : "s")")) font \",14\"\n"
        for panel in panels { script += panel.commands().joined(separator: "\n") + "\n" }
        script += "unset multiplot\n"
        try write(script, to: Self.path(directory, (figure as NSString).deletingPathExtension + ".gp"), output: &output, script: true)
        output.figures.append(Self.path(directory, figure))
    }

    private func writeData(_ panel: PlotPanel, in directory: String, output: inout Output) throws(ExperimentsError) {
        for entry in panel.entries {
            let text = entry.series.dataFile(header: "\(entry.label): \(entry.series.run.logPath ?? entry.series.run.id)")
            try write(text, to: Self.path(directory, entry.dataFile), output: &output, script: false)
        }
        if let peersFile = panel.peersFile {
            let text = "# peers (peers.json): accuracy in both accuracy columns\n# columns: " + PlotSeries.Point.columns.joined(separator: " ")
                + "\n" + panel.peers.map(PlotSeries.row).joined()
            try write(text, to: Self.path(directory, peersFile), output: &output, script: false)
        }
    }

    private func header(_ figure: String, panels: [PlotPanel]) -> String {
        var lines = ["# \(figure), drawn by `tune plot` (mcutune). Restyle here, then redraw in this directory: gnuplot "
            + (figure as NSString).deletingPathExtension + ".gp"]
        for panel in panels {
            for entry in panel.entries { lines.append("#   \(entry.dataFile): \(entry.label), from \(entry.series.run.logPath ?? entry.series.run.id)") }
        }
        lines.append("# Each .dat file's blocks (plot ... index N): " + PlotSeries.blocks.enumerated().map { "\($0) \($1)" }.joined(separator: "; ")
            + "; then one per baseline (all16, all8).")
        lines.append("# Columns: " + PlotSeries.Point.columns.enumerated().map { "\($0 + 1) \($1)" }.joined(separator: ", ")
            + "; NaN where a figure is missing.")
        return lines.joined(separator: "\n") + "\n"
    }

    private func terminal(_ ext: String, columns: Int, rows: Int) -> String {
        let (width, height) = (1200 * columns, 680 * rows)
        switch ext {
        // P scales every point; the svg terminal draws points larger than the cairo ones.
        case "svg": return "set terminal svg size \(width),\(height) dynamic noenhanced font \"sans,12\" background rgb \"white\"\nP = 0.7  # the size of every point symbol, relative\n"
        case "pdf":
            let (w, h) = (PlotPanel.number(Double(width) / 150), PlotPanel.number(Double(height) / 150))
            return "set terminal pdfcairo size \(w)in,\(h)in noenhanced font \"sans,9\"\nP = 0.8  # the size of every point symbol, relative\n"
        default: return "set terminal pngcairo size \(width),\(height) noenhanced font \"sans,12\" background rgb \"white\"\nP = 1  # the size of every point symbol, relative\n"
        }
    }

    private func write(_ text: String, to path: String, output: inout Output, script: Bool) throws(ExperimentsError) {
        let directory = (path as NSString).deletingLastPathComponent
        do {
            if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        } catch { throw .cannotWrite(path: path, reason: error.localizedDescription) }
        if script { output.scripts.append(path) } else { output.dataFiles.append(path) }
    }

    static func path(_ directory: String, _ name: String) -> String {
        directory.isEmpty ? name : (directory as NSString).appendingPathComponent(name)
    }

    /// Of runs that differ only by seed, the one with the lowest seed.
    static func lowestSeeds(_ runs: [RunRecord]) -> [RunRecord] {
        var kept: [String: RunRecord] = [:]
        var order: [String] = []
        for run in runs {
            let key = "\(run.strategy ?? "?")|\(run.budgetRAMBytes.map(String.init) ?? "?")|\(run.budgetFlashBytes.map(String.init) ?? "?")"
            if let current = kept[key] {
                if (run.seed ?? .max) < (current.seed ?? .max) { kept[key] = run }
            } else {
                kept[key] = run
                order.append(key)
            }
        }
        return order.compactMap { kept[$0] }
    }

    /// A model name as part of a file name.
    static func fileName(_ text: String) -> String {
        String(text.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" })
    }
}
