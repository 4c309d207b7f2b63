import Foundation
import ModelIR
import SwiftProtobuf

/// A model imported from an ONNX file: our checked graph, and how it was made.
public struct ImportedONNXModel: Sendable {
    public var graph: Graph
    public var report: ONNXImportReport
}

/// Reads an `.onnx` file (a protobuf `ModelProto`) and imports its feed-forward graph into our IR.
///
/// What is supported, and how channels-first models become channels last, is in `GraphTranslator`;
/// every problem is an `ONNXImportError` of one line, never a crash: the file is untrusted input.
public enum ONNXImporter {
    /// The ai.onnx opsets whose semantics for the supported ops we follow (ONNX 1.22 writes up to 26).
    public static let supportedOpsets = 7...26
    /// The ops an ONNX graph may use.
    public static var supportedOps: [String] { GraphTranslator.supportedOps }

    /// True when `path` names an ONNX file (by its extension, as exporters write it), not a model directory.
    public static func isONNXPath(_ path: String) -> Bool {
        (path as NSString).pathExtension.lowercased() == "onnx"
    }

    public static func importModel(at path: String) throws(ONNXImportError) -> ImportedONNXModel {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw .fileNotFound(path: path) }
        guard !isDirectory.boolValue, let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path: path, reason: isDirectory.boolValue ? "it is a directory" : "permission denied or not a file")
        }
        return try importModel(data, path: path)
    }

    /// Imports the bytes of an ONNX file; `path` names it in messages and locates external data.
    public static func importModel(_ data: Data, path: String) throws(ONNXImportError) -> ImportedONNXModel {
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: data)
        } catch let error as BinaryDecodingError {
            throw .malformed(path: path, reason: "protobuf decoding failed (\(Self.describe(error)))")
        } catch {
            throw .malformed(path: path, reason: "protobuf decoding failed (\(error))")
        }
        guard model.hasGraph, model.irVersion > 0 else {
            throw .malformed(path: path, reason: model.hasGraph ? "it has no IR version" : "it holds no graph")
        }
        let opset = try Self.opset(of: model, path: path)
        let producer = [model.producerName, model.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        let report = ONNXImportReport(path: path, irVersion: Int(clamping: model.irVersion), opset: opset, producer: producer)
        var translator = try GraphTranslator(path: path, opset: opset, graph: model.graph, report: report)
        let graph = try translator.translate()
        return ImportedONNXModel(graph: graph, report: translator.report)
    }

    /// The ai.onnx opset the model imports; other domains are refused when a node uses them.
    private static func opset(of model: Onnx_ModelProto, path: String) throws(ONNXImportError) -> Int {
        guard let entry = model.opsetImport.first(where: { $0.domain.isEmpty || $0.domain == "ai.onnx" }) else {
            throw .malformed(path: path, reason: "it imports no ai.onnx opset")
        }
        guard let version = Int(exactly: entry.version), supportedOpsets.contains(version) else {
            throw .unsupportedOpset(path: path, domain: entry.domain.isEmpty ? "ai.onnx" : entry.domain,
                                    version: Int(clamping: entry.version), supported: supportedOpsets)
        }
        return version
    }

    private static func describe(_ error: BinaryDecodingError) -> String {
        switch error {
        case .truncated: "the file is truncated"
        case .malformedProtobuf: "malformed protobuf data"
        case .invalidUTF8: "a string field is not valid UTF-8"
        case .messageDepthLimit: "messages nested too deeply"
        default: "\(error)"
        }
    }
}
