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
}
