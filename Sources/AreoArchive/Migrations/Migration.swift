import Foundation

/// One numbered SQL migration file, `NNNN_description.sql`.
public struct Migration: Sendable, Equatable {
    /// The number that orders migrations; each is applied once.
    public let version: Int
    /// The file name, for messages and the migrations table.
    public let fileName: String
    /// The file's text.
    public let sql: String

    /// A stable fingerprint of the text (FNV-1a, 64 bit), to notice an applied file that changed.
    public var checksum: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in sql.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return String(hash, radix: 16)
    }

    public init(version: Int, fileName: String, sql: String) {
        self.version = version
        self.fileName = fileName
        self.sql = sql
    }

    /// Reads every `NNNN_*.sql` file of `directory`, ordered by number.
    /// - Throws: ``StoreError`` if the directory is missing, a name has no number, or two share one.
    public static func load(from directory: URL) throws(StoreError) -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw StoreError(.migrationsNotFound, "cannot read the migrations directory \(directory.path)")
        }
        var migrations: [Migration] = []
        for name in names where name.hasSuffix(".sql") {
            guard let number = Int(name.prefix(while: \.isNumber)), name.first?.isNumber == true else {
                throw StoreError(.migrationsNotFound, "migration file \(name) does not start with its number (NNNN_name.sql)")
            }
            let url = directory.appendingPathComponent(name)
            guard let sql = try? String(contentsOf: url, encoding: .utf8) else {
                throw StoreError(.migrationsNotFound, "cannot read migration file \(url.path)")
            }
            if let clash = migrations.first(where: { $0.version == number }) {
                throw StoreError(.migrationsNotFound, "migrations \(clash.fileName) and \(name) share the number \(number)")
            }
            migrations.append(Migration(version: number, fileName: name, sql: sql))
        }
        return migrations.sorted { $0.version < $1.version }
    }

    /// Finds Areo's `migrations/` directory: `explicit` if given, else `AREO_MIGRATIONS_DIR`, else
    /// the first `migrations` folder found walking up from the working directory and from the
    /// executable's directory.
    public static func locateDirectory(explicit: String? = nil) throws(StoreError) -> URL {
        if let explicit { return URL(fileURLWithPath: explicit) }
        if let env = ProcessInfo.processInfo.environment["AREO_MIGRATIONS_DIR"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        let starts = [
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
            URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent(),
        ]
        for start in starts {
            var dir = start.standardizedFileURL
            for _ in 0..<8 {
                let candidate = dir.appendingPathComponent("migrations")
                var isDir: ObjCBool = false
                if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDir), isDir.boolValue,
                   FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path)
                    || ProcessInfo.processInfo.environment["AREO_MIGRATIONS_DIR"] != nil
                    || (try? FileManager.default.contentsOfDirectory(atPath: candidate.path))?.contains(where: { $0.hasPrefix("0001") }) == true
                {
                    return candidate
                }
                let parent = dir.deletingLastPathComponent()
                if parent.path == dir.path { break }
                dir = parent
            }
        }
        throw StoreError(.migrationsNotFound, "no migrations/ directory found: run areo from its checkout or set AREO_MIGRATIONS_DIR")
    }
}
