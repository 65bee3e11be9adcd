import CLua
import DHCPWire

extension ScriptRuntime {
    func installPacketType() {}
}
