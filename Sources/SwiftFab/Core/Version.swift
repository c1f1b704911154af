public enum SwiftFabVersion {
    public static let current = "0.1.0"
}
