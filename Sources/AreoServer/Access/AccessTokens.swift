import AreoStore
import Crypto
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// Who a client is: what it may see and do.
public enum Role: String, Sendable, Codable, CaseIterable, Comparable {
    /// Anyone (no token): non-embargoed observations and their products.
    case `public`
    /// The science team: embargoed observations too.
    case team
    /// Archive builders and operations: uploads, loads and exports as well.
    case archivist

    var rank: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
}

/// Bearer tokens, stored as their SHA-256 only: a token is shown once, when it is created.
public struct AccessTokens: Sendable {
    let database: Database
    let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// Creates a token for `role` and returns it (`areo_` + 43 characters of base64url).
    public func create(role: Role, label: String = "") async throws -> String {
        let token = "areo_" + Data(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        try await database.client.query(
            "INSERT INTO api_tokens (token_sha256, role, label) VALUES (\(Self.hash(token)), \(role.rawValue), \(label))", logger: logger)
        logger.info("token created", metadata: ["role": "\(role.rawValue)", "label": "\(label)"])
        return token
    }

    /// The role of `token`, nil when it is unknown or revoked.
    public func role(of token: String) async throws -> Role? {
        let rows = try await database.client.query(
            "SELECT role FROM api_tokens WHERE token_sha256 = \(Self.hash(token)) AND revoked_at IS NULL", logger: logger)
        for try await role in rows.decode(String.self) { return Role(rawValue: role) }
        return nil
    }

    static func hash(_ token: String) -> ByteBuffer { ByteBuffer(bytes: Array(SHA256.hash(data: Data(token.utf8)))) }
}
