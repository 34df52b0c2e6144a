import Foundation

/// An error of the persistence layer: what failed, with enough context to act on it.
///
/// `description` is safe to show to users and clients; `debugDescription` adds the underlying
/// cause (process output, server message) for logs.
public struct StoreError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    /// What kind of failure this is.
    public enum Code: String, Sendable {
        case invalidDatabaseURL
        case postgresNotInstalled
        case clusterCommandFailed
        case clusterNotAccessible
        case clusterNotRunning
        case migrationsNotFound
        case migrationFailed
        case migrationChanged
        case databaseUnavailable
        case queryFailed
    }

    public let code: Code
    /// The human-readable message.
    public let message: String
    /// Detail for logs: captured output, the server's error, the failing statement.
    public let detail: String?

    public init(_ code: Code, _ message: String, detail: String? = nil) {
        self.code = code
        self.message = message
        self.detail = detail
    }

    public var description: String { message }
    public var debugDescription: String {
        if let detail { return "\(code.rawValue): \(message)\n\(detail)" }
        return "\(code.rawValue): \(message)"
    }
}
