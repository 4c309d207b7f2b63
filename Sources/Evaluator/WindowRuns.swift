import ModelIR

/// A window over HWC samples as runs: for each tap of the window and each output row, the stretch
/// of output pixels whose input pixel lies inside the input. Taps over padding are simply absent.
///
/// A kernel walks the runs and, inside one, `pixels` output pixels that are C apart against input
/// pixels `inputStride` apart; with a stride of 1 both are contiguous and the run is one flat loop
/// of `pixels · C` elements. Per sample that is kh·kw·H' runs instead of a test per element.
struct WindowRuns: Sendable {
    struct Run: Sendable {
        /// Tap index in the window, row-major: ky · kw + kx.
        let tap: Int
        /// Element offsets of the run's first output and input pixel within a sample.
        let output: Int
        let input: Int
        let pixels: Int
    }

    let channels: Int
    let taps: Int
    /// Output pixels per sample.
    let positions: Int
    /// Elements between the input pixels of consecutive outputs: stride · C.
    let inputStride: Int
    let runs: [Run]

    init(input: Shape, window: Window) {
        let (h, w, c) = (input.dims[0], input.dims[1], input.dims[2])
        let out = window.outputSize(height: h, width: w) ?? (0, 0)
        let (sy, sx) = (window.strideHeight, window.strideWidth)
        var runs: [Run] = []
        for ky in 0..<window.kernelHeight {
            for kx in 0..<window.kernelWidth {
                // Output columns whose input column ox·sx + kx − padLeft lies in [0, w).
                let shift = kx - window.padLeft
                let first = max(0, (-shift + sx - 1) / sx)
                let last = min(out.width - 1, (w - 1 - shift) >= 0 ? (w - 1 - shift) / sx : -1)
                guard first <= last else { continue }
                for oy in 0..<out.height {
                    let iy = oy * sy + ky - window.padTop
                    guard iy >= 0, iy < h else { continue }
                    runs.append(Run(tap: ky * window.kernelWidth + kx, output: (oy * out.width + first) * c,
                                    input: (iy * w + first * sx + shift) * c, pixels: last - first + 1))
                }
            }
        }
        channels = c
        taps = window.kernelHeight * window.kernelWidth
        positions = out.height * out.width
        inputStride = sx * c
        self.runs = runs
    }
}
