/// What a host does (web, db, ...); tasks pick hosts by role.
public struct Role: Hashable, Sendable, Comparable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let name: String
    public init(_ name: String) { self.name = name }
    public init(stringLiteral name: String) { self.name = name }
    public var description: String { name }
    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.name < rhs.name }

    public static let web: Role = "web"
    public static let app: Role = "app"
    public static let db: Role = "db"
    public static let worker: Role = "worker"
    public static let proxy: Role = "proxy"
}
