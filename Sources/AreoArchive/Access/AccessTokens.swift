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

    /// Parses a lifetime such as `30d`, `12h`, `90m` or `3600s` (1 s … 10 years).
    public static func lifetime(_ text: String) -> TimeInterval? {
        guard let unit = text.last, let count = Int(text.dropLast()), count > 0 else { return nil }
        let seconds: [Character: Int] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400]
        guard let factor = seconds[unit], count <= 3_650 * 86_400 / factor else { return nil }
        return TimeInterval(count * factor)
    }

    /// Creates a token for `role` and returns it (`areo_` + 43 characters of base64url).
    /// - Parameter expiresAfter: the token answers 401 once this long has passed (nil: never).
    public func create(role: Role, label: String = "", expiresAfter: TimeInterval? = nil) async throws -> String {
        let token = "areo_" + Data(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        try await database.client.query(
            """
            INSERT INTO api_tokens (token_sha256, role, label, expires_at)
            VALUES (\(Self.hash(token)), \(role.rawValue), \(label), \(expiresAfter.map { Date().addingTimeInterval($0) }))
            """, logger: logger)
        logger.info("token created", metadata: ["role": "\(role.rawValue)", "label": "\(label)"])
        return token
    }

    /// Who holds a valid token: its id (to own prefetch sessions and count limits) and role.
    public struct Holder: Sendable, Equatable {
        public var id: Int
        public var role: Role
    }

    /// The holder of `token`, nil when it is unknown, revoked or expired.
    public func holder(of token: String) async throws -> Holder? {
        let rows = try await database.client.query(
            """
            SELECT id, role FROM api_tokens WHERE token_sha256 = \(Self.hash(token)) AND revoked_at IS NULL
                AND (expires_at IS NULL OR expires_at > now())
            """, logger: logger)
        for try await (id, role) in rows.decode((Int, String).self) { return Role(rawValue: role).map { Holder(id: id, role: $0) } }
        return nil
    }

    /// The role of `token`, nil when it is unknown, revoked or expired.
    public func role(of token: String) async throws -> Role? { try await holder(of: token)?.role }

    /// A token as operators see it (never the token itself).
    public struct Listed: Sendable, Codable, Equatable {
        public var id: Int
        public var role: String
        public var label: String
        public var createdAt: Date
        public var revokedAt: Date?
        public var expiresAt: Date?
    }

    /// Every token, oldest first.
    public func list() async throws -> [Listed] {
        var result: [Listed] = []
        for try await (id, role, label, created, revoked, expires) in try await database.client.query(
            "SELECT id, role, label, created_at, revoked_at, expires_at FROM api_tokens ORDER BY id", logger: logger
        ).decode((Int, String, String, Date, Date?, Date?).self) {
            result.append(Listed(id: id, role: role, label: label, createdAt: created, revokedAt: revoked, expiresAt: expires))
        }
        return result
    }

    /// Revokes token `id`; a server refuses it within seconds (its lookups are remembered 5 s).
    /// - Returns: false when there is no such token or it was revoked already.
    @discardableResult
    public func revoke(id: Int) async throws -> Bool {
        var revoked = false
        for try await _ in try await database.client.query(
            "UPDATE api_tokens SET revoked_at = now() WHERE id = \(id) AND revoked_at IS NULL RETURNING id", logger: logger
        ).decode(Int.self) {
            revoked = true
        }
        if revoked { logger.info("token revoked", metadata: ["id": "\(id)"]) }
        return revoked
    }

    static func hash(_ token: String) -> ByteBuffer { ByteBuffer(bytes: Array(SHA256.hash(data: Data(token.utf8)))) }
}
