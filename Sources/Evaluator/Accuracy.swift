/// Classification accuracy of model outputs against labels.
public enum Accuracy {
    /// The fraction of rows whose class (argmax, lowest index on ties; or the value of a one-column
    /// class-index output) equals the label.
    public static func of(_ outputs: Batch, labels: [Int], outputsClassIndex: Bool) -> Double {
        guard !labels.isEmpty else { return 0 }
        let predicted = outputsClassIndex ? outputs.values.map { Int($0) } : outputs.argMaxRows()
        return Double(zip(predicted, labels).filter { $0 == $1 }.count) / Double(labels.count)
    }
}
