import AreoProducts
import AreoServer
import AreoArchive
import ArgumentParser
import Foundation
import Logging

/// `areo token create --role R`: a bearer token for the API, printed as the last line.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "token", abstract: "API bearer tokens.", subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token (stored hashed; shown only now, as the last line).")
        @OptionGroup var common: CommonOptions
        @Option(help: "public, team or archivist.") var role: String
        @Option(help: "A note saying whose token it is.") var label = ""
        @Option(help: "Lifetime, e.g. 30d, 12h, 90m (default: until revoked); an expired token answers 401.") var expires: String?

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeLogger()
            guard let role = Role(rawValue: role) else { throw ValidationError("role is public, team or archivist") }
            let label = self.label
            var lifetime: TimeInterval?
            if let expires {
                guard let parsed = AccessTokens.lifetime(expires) else { throw ValidationError("--expires is a count and a unit (s, m, h, d), e.g. 30d; at most 10 years") }
                lifetime = parsed
            }
            let token = try await DatabaseSession.withDatabase(common, logger: logger) { [lifetime] database in
                try await AccessTokens(database: database, logger: logger).create(role: role, label: label, expiresAfter: lifetime)
            }
            print("token for role \(role.rawValue) (keep it secret; it is not shown again):")
            print(token)
        }
    }
}

extension TokenCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (id, role, label, created, revoked; never the tokens).")
        @OptionGroup var common: CommonOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeLogger()
            let tokens = try await DatabaseSession.withDatabase(common, logger: logger) { database in
                try await AccessTokens(database: database, logger: logger).list()
            }
            if json { try printJSON(tokens); return }
            for t in tokens {
                print("\(t.id)\t\(t.role)\t\(t.label)\tcreated \(ISO8601DateFormatter().string(from: t.createdAt))\t\(t.revokedAt.map { "revoked \(ISO8601DateFormatter().string(from: $0))" } ?? t.expiresAt.map { "expires \(ISO8601DateFormatter().string(from: $0))" } ?? "active")")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by its id (see `areo token list`).")
        @OptionGroup var common: CommonOptions
        @Argument var id: Int

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeLogger()
            let id = self.id
            let revoked = try await DatabaseSession.withDatabase(common, logger: logger) { database in
                try await AccessTokens(database: database, logger: logger).revoke(id: id)
            }
            guard revoked else { throw ValidationError("no active token \(id)") }
            print("token \(id) revoked")
        }
    }
}

/// Tells the operator what a load changed (a running server regenerates the products it made
/// stale at once: the load notified it).
enum CatalogueRefresh {
    static func report<Input>(_ loaded: ArchiveLoads.Loaded<Input>) -> Input {
        let report = loaded.catalogue
        if !report.inputsChanged.isEmpty {
            FileHandle.standardError.write(Data(
                "applicable inputs changed for observation(s) \(report.inputsChanged.map(String.init).joined(separator: ", ")): their products will be regenerated\n".utf8))
        }
        return loaded.input
    }
}
