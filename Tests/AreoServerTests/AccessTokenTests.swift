import AreoServer
import AreoArchive
import AreoTestSupport
import Foundation
import PostgresNIO
import Testing

/// `areo token create` as an operator runs it: the token is the last line, stored hashed.
@Suite struct AccessTokenTests {
    @Test func tokenCreatePrintsTheTokenLastAndStoresOnlyItsHash() async throws {
        let (url, drop) = try await TestDatabase.createDatabase()
        do {
            try await check(url: url)
        } catch {
            try? await drop()
            throw error
        }
        try await drop()
    }

    func check(url: String) async throws {
        let location = try DatabaseLocation(url: url)
        try await Database.withDatabase(location: location, logger: TestDatabase.logger) { database in
            try await MigrationRunner(client: database.client, logger: TestDatabase.logger).migrate(
                try Migration.load(from: TestDatabase.migrationsDirectory))
        }
        let (status, output) = try TestProcess.run(
            TestDatabase.areoBinary, ["token", "create", "--role", "team", "--label", "test", "--database-url", url, "--log-level", "error"],
            mergeErrors: false)
        #expect(status == 0)
        let token = try #require(output.split(separator: "\n").last.map(String.init))
        #expect(token.hasPrefix("areo_") && token.count >= 40)
        try await Database.withDatabase(location: location, logger: TestDatabase.logger) { database in
            let tokens = AccessTokens(database: database, logger: TestDatabase.logger)
            #expect(try await tokens.role(of: token) == .team)
            #expect(try await tokens.role(of: token + "x") == nil)
            // The token itself is nowhere in the database.
            var stored: [String] = []
            for try await text in try await database.client.query("SELECT encode(token_sha256, 'escape') || role || label FROM api_tokens", logger: TestDatabase.logger).decode(String.self) {
                stored.append(text)
            }
            #expect(stored.count == 1)
            #expect(!stored[0].contains(token))
        }
        // Listed without the token; revoked, it no longer counts.
        let listed = try TestProcess.run(TestDatabase.areoBinary, ["token", "list", "--json", "--database-url", url, "--log-level", "error"], mergeErrors: false)
        #expect(listed.status == 0)
        #expect(listed.output.contains("\"role\" : \"team\""))
        #expect(!listed.output.contains(token))
        let revoke = try TestProcess.run(TestDatabase.areoBinary, ["token", "revoke", "1", "--database-url", url, "--log-level", "error"])
        #expect(revoke.status == 0)
        let roleAfter = try await Database.withDatabase(location: location, logger: TestDatabase.logger) { database in
            try await AccessTokens(database: database, logger: TestDatabase.logger).role(of: token)
        }
        #expect(roleAfter == nil)
        let again = try TestProcess.run(TestDatabase.areoBinary, ["token", "revoke", "1", "--database-url", url, "--log-level", "error"])
        #expect(again.status != 0)

        // A bad role is refused with a clear message.
        let bad = try TestProcess.run(TestDatabase.areoBinary, ["token", "create", "--role", "admin", "--database-url", url])
        #expect(bad.status != 0)
        #expect(bad.output.contains("role is public, team or archivist"))
    }
}
