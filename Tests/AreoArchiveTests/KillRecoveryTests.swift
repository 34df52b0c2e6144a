import AreoArchive
import AreoTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `areo ingest` killed with SIGKILL at several moments and run again ends in exactly the state
/// of an uninterrupted ingest.
@Suite struct KillRecoveryTests {
    static func runAreo(_ arguments: [String], killAfter delay: Double?) throws -> Int32 {
        let process = Process()
        process.executableURL = TestDatabase.areoBinary
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        if let delay {
            Thread.sleep(forTimeInterval: delay)
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test func killedIngestsResumeToTheUninterruptedState() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: TestDatabase.areoBinary.path), "build areo first (scripts/test does)")
        let mission = TestDatabase.samplesDirectory.appendingPathComponent("tiny-faults")
        let passes = (1...3).map { mission.appendingPathComponent("pass_00\($0).dds").path }
        let migrations = TestDatabase.migrationsDirectory.path

        // Reference: set-up and an uninterrupted ingest.
        func prepare(_ url: String) throws {
            let dictionary = TestDatabase.samplesDirectory.deletingLastPathComponent().appendingPathComponent("icd/hk-dictionary.json").path
            #expect(try Self.runAreo(["housekeeping", "load", dictionary, "--database-url", url, "--migrations-dir", migrations], killAfter: nil) == 0)
            #expect(try Self.runAreo(["plan", "load", mission.appendingPathComponent("plans.plan.jsonl").path, "--database-url", url, "--migrations-dir", migrations], killAfter: nil) == 0)
        }
        let reference = try await TestDatabase.createDatabase()
        try prepare(reference.url)
        #expect(try Self.runAreo(["ingest"] + passes + ["--database-url", reference.url, "--migrations-dir", migrations], killAfter: nil) == 0)
        let expected = try await Database.withDatabase(location: DatabaseLocation(url: reference.url), logger: TestDatabase.logger) {
            try await ArchiveFingerprint.of($0)
        }
        try await reference.drop()

        // Interrupted: killed at several moments (small batches, so kills land between and inside
        // transactions, in every pass), then run to the end.
        let interrupted = try await TestDatabase.createDatabase()
        try prepare(interrupted.url)
        let arguments = ["ingest"] + passes + ["--database-url", interrupted.url, "--migrations-dir", migrations, "--batch-size", "25"]
        var killed = 0
        for delay in [0.12, 0.25, 0.4, 0.55, 0.7, 0.9, 1.2] {
            let status = try Self.runAreo(arguments, killAfter: delay)
            if status != 0 { killed += 1 }
        }
        #expect(killed >= 2, "at least some runs were really killed mid-ingest")
        #expect(try Self.runAreo(arguments, killAfter: nil) == 0)
        let actual = try await Database.withDatabase(location: DatabaseLocation(url: interrupted.url), logger: TestDatabase.logger) {
            try await ArchiveFingerprint.of($0)
        }
        try await interrupted.drop()
        #expect(actual == expected)
    }
}
