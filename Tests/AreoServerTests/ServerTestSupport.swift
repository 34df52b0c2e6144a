import AreoServer
import AreoArchive
import AreoTestSupport
import Foundation
import HTTPTypes
import Logging

/// What the server tests share: a private cache directory and tokens.
enum ServerTestSupport {
    /// A new empty directory under /tmp (removed by the caller).
    static func temporaryDirectory(_ name: String) -> URL {
        let url = URL(fileURLWithPath: "/tmp/areo-\(name)-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// An Authorization header for a new token of `role`.
    static func authorization(_ role: Role, database: Database) async throws -> HTTPFields {
        let token = try await AccessTokens(database: database, logger: TestDatabase.logger).create(role: role, label: "test")
        return [.authorization: "Bearer \(token)"]
    }
}
