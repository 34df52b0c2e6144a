import AreoProducts
import AreoServer
import AreoStore
import ArgumentParser
import Foundation
import Logging

/// `areo token create --role R`: a bearer token for the API, printed as the last line.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "token", abstract: "API bearer tokens.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token (stored hashed; shown only now, as the last line).")
        @OptionGroup var common: CommonOptions
        @Option(help: "public, team or archivist.") var role: String
        @Option(help: "A note saying whose token it is.") var label = ""

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeLogger()
            guard let role = Role(rawValue: role) else { throw ValidationError("role is public, team or archivist") }
            let label = self.label
            let token = try await DatabaseSession.withDatabase(common, logger: logger) { database in
                try await AccessTokens(database: database, logger: logger).create(role: role, label: label)
            }
            print("token for role \(role.rawValue) (keep it secret; it is not shown again):")
            print(token)
        }
    }
}

/// Rewrites the observation catalogue after a load, so a running server serves products made
/// with the new inputs and regenerates the stale ones.
enum CatalogueRefresh {
    static func run(database: Database, logger: Logger) async throws {
        let report = try await ObservationCatalog(database: database, logger: logger).refresh()
        if !report.inputsChanged.isEmpty {
            FileHandle.standardError.write(Data(
                "applicable inputs changed for observation(s) \(report.inputsChanged.map(String.init).joined(separator: ", ")): their products will be regenerated\n".utf8))
        }
    }
}
