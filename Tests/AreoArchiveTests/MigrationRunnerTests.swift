import AreoArchive
import AreoTestSupport
import Foundation
import PostgresNIO
import Testing

@Suite struct MigrationRunnerTests {
    /// Every table, column and index of the public schema, as text, to compare snapshots.
    static func schemaSnapshot(_ database: Database) async throws -> [String] {
        let rows = try await database.client.query(
            """
            SELECT table_name || '.' || column_name || ':' || data_type
            FROM information_schema.columns WHERE table_schema = 'public'
            UNION ALL SELECT 'index ' || indexname FROM pg_indexes WHERE schemaname = 'public'
            ORDER BY 1
            """, logger: TestDatabase.logger)
        var result: [String] = []
        for try await line in rows.decode(String.self) { result.append(line) }
        return result
    }

    static func count(_ database: Database, _ query: PostgresQuery) async throws -> Int {
        var value = 0
        for try await n in try await database.client.query(query, logger: TestDatabase.logger).decode(Int.self) { value = n }
        return value
    }

    @Test func applyingTwiceChangesNothing() async throws {
        let migrations = try Migration.load(from: TestDatabase.migrationsDirectory)
        #expect(!migrations.isEmpty)
        try await TestDatabase.withFreshDatabase { database in
            let runner = MigrationRunner(client: database.client, logger: TestDatabase.logger)
            let first = try await runner.migrate(migrations)
            #expect(first.applied == migrations.map(\.version))
            let schemaAfterFirst = try await Self.schemaSnapshot(database)
            let rowsAfterFirst = try await Self.count(database, "SELECT count(*) FROM schema_migrations")

            let second = try await runner.migrate(migrations)
            #expect(second.applied.isEmpty)
            #expect(second.skipped == migrations.map(\.version))
            #expect(try await Self.schemaSnapshot(database) == schemaAfterFirst)
            #expect(try await Self.count(database, "SELECT count(*) FROM schema_migrations") == rowsAfterFirst)
            #expect(try await runner.isCurrent(migrations))
        }
    }

    @Test func aFailingMigrationRollsBackWholeAndNamesFileAndStatement() async throws {
        let good = Migration(version: 1, fileName: "0001_good.sql", sql: "CREATE TABLE kept (id int);")
        let bad = Migration(
            version: 2, fileName: "0002_bad.sql",
            sql: """
                CREATE TABLE half_done (id int);
                INSERT INTO half_done VALUES (1);
                SELECT * FROM no_such_table;
                """)
        try await TestDatabase.withFreshDatabase { database in
            let runner = MigrationRunner(client: database.client, logger: TestDatabase.logger)
            let error = await #expect(throws: StoreError.self) { try await runner.migrate([good, bad]) }
            #expect(error?.code == .migrationFailed)
            #expect(error?.message.contains("0002_bad.sql") == true)
            #expect(error?.message.contains("line 3") == true)
            #expect(error?.message.contains("no_such_table") == true)
            #expect(error?.detail == "SELECT * FROM no_such_table")

            // The good one stays, nothing of the bad one exists and it is not recorded.
            let kept = try await Self.count(database, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'kept'")
            let halfDone = try await Self.count(database, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'half_done'")
            let applied = try await runner.appliedVersions().keys.sorted()
            let current = try await runner.isCurrent([good, bad])
            #expect(kept == 1)
            #expect(halfDone == 0)
            #expect(applied == [1])
            #expect(!current)
        }
    }

    @Test func migrationFilesAreNumberedUniquely() throws {
        let migrations = try Migration.load(from: TestDatabase.migrationsDirectory)
        #expect(Set(migrations.map(\.version)).count == migrations.count)
        #expect(migrations.map(\.version) == migrations.map(\.version).sorted())
    }
}
