/// Classification accuracy of model outputs against labels.
public enum Accuracy {
    /// The fraction of rows whose class (argmax, lowest index on ties; or the value of a one-column
    /// class-index output) equals the label.
    public static func of(_ outputs: Batch, labels: [Int], outputsClassIndex: Bool) -> Double {
        of(classes: classes(outputs, outputsClassIndex: outputsClassIndex), labels: labels)
    }

    public static func of(classes: [Int], labels: [Int]) -> Double {
        guard !labels.isEmpty else { return 0 }
        return Double(zip(classes, labels).filter { $0 == $1 }.count) / Double(labels.count)
    }

    /// The class of each row: its argmax (lowest index on ties), or its value for a one-column
    /// class-index output.
    public static func classes(_ outputs: Batch, outputsClassIndex: Bool) -> [Int] {
        outputsClassIndex ? outputs.values.map { Int($0) } : outputs.argMaxRows()
    }

    /// The Wilson score interval of an accuracy measured on `samples` samples (95% by default):
    /// unlike the normal approximation it stays within [0, 1] and is honest at 100% on few samples
    /// (10 of 10 correct: 72.2% to 100%).
    public static func wilson(accuracy: Double, samples: Int, z: Double = 1.959963984540054) -> ClosedRange<Double> {
        guard samples > 0 else { return 0...1 }
        let n = Double(samples), p = min(max(accuracy, 0), 1), z2 = z * z
        let centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        let half = z / (1 + z2 / n) * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        // At 0% and 100% the bound on that side is exactly 0 or 1 (the formula's rounding is not).
        return (p == 0 ? 0 : max(0, centre - half))...(p == 1 ? 1 : min(1, centre + half))
    }
}
