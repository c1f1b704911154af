import Foundation

/// A value that `@Sendable` closures of a test share (a scripted host's state, what a callback heard).
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    var current: Value { lock.withLock { value } }

    func update(_ change: (inout Value) -> Void) { lock.withLock { change(&value) } }
}
