import Devices
import Experiments
import FixedPoint
import Hardware
import ModelIR
import ONNXImport
import Tuner

/// An error from a subcommand's work, printed by ArgumentParser as one line, `Error: <what>`.
struct CommandError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
    init(_ error: ModelError) { description = error.description }
    init(_ error: ONNXImportError) { description = error.description }
    init(_ error: TunerError) { description = error.description }
    init(_ error: DeviceError) { description = error.description }
    init(_ error: TargetCatalog.Failure) { description = error.description }
    init(_ error: FixedPointError) { description = error.description }
    init(_ error: TargetFile.Failure) { description = error.description }
    init(_ error: ExperimentsError) { description = error.description }
}

/// Runs `body`, turning the typed errors of the modules into `CommandError`s.
@discardableResult
func reporting<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as ModelError {
        throw CommandError(error)
    } catch let error as ONNXImportError {
        throw CommandError(error)
    } catch let error as TunerError {
        throw CommandError(error)
    } catch let error as DeviceError {
        throw CommandError(error)
    } catch let error as TargetCatalog.Failure {
        throw CommandError(error)
    } catch let error as FixedPointError {
        throw CommandError(error)
    } catch let error as TargetFile.Failure {
        throw CommandError(error)
    } catch let error as ExperimentsError {
        throw CommandError(error)
    }
}
