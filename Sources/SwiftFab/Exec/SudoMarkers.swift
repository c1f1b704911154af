/// The markers that let a backend answer sudo's password prompt: the prompt
/// sudo is told to print, and a line the command prints once sudo let it
/// through. Fresh for each command, so nothing it prints can fake them; nil
/// when there is no sudo password to give.
struct SudoMarkers {
    let prompt: String?
    let ready: String?

    init(_ command: Command, _ options: ExecOptions) {
        guard options.sudoPassword != nil && command.sudo != nil else {
            prompt = nil
            ready = nil
            return
        }
        let tag = String(UInt64.random(in: 1..<UInt64.max), radix: 36)
        prompt = "[swiftfab-sudo-\(tag)]"
        ready = "[swiftfab-ready-\(tag)]"
    }
}
