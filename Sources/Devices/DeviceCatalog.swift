import Hardware

/// The backend of each core: the one place that names them.
public struct DeviceCatalog: Sendable {
    let tools: ToolCache

    /// `root` is the checkout, which holds the sources of the host tools (`tools/`).
    public init(root: String) { self.tools = ToolCache(root: root) }

    public func device(for target: Target) throws(DeviceError) -> any Device {
        switch target.core {
        case .avr:
            return AVRDevice(target: target, tools: tools)
        case .cortexM0Plus, .cortexM3, .cortexM4, .cortexM7:
            guard let machine = QemuMachine.forTarget(target) else {
                throw .unsupported(target: target.name, reason: "no qemu machine has its \(target.flashBytes) B of flash and \(target.ramBytes) B of RAM")
            }
            return CortexMDevice(target: target, machine: machine, tools: tools)
        }
    }
}
