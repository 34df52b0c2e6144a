import Foundation
import Logging
import PostgresNIO
#if canImport(Glibc)
import Glibc
#endif

/// Areo's private PostgreSQL cluster, used when no database URL is given.
///
/// The cluster lives in a directory of its own (by default `.areo/postgres`), is created with the
/// system's `initdb` on first use and started with `pg_ctl` on a free loopback port. A process that
/// finds it already running uses it as it is. When Areo runs as root, the PostgreSQL programs run
/// as the unprivileged `postgres` user, which owns the cluster directory.
public struct EmbeddedPostgres: Sendable {
    /// The state of the cluster directory.
    public enum Status: Sendable, Equatable, CustomStringConvertible {
        case notInitialized
        case stopped
        case running(port: Int, pid: Int32)

        public var description: String {
            switch self {
            case .notInitialized: "not initialised"
            case .stopped: "stopped"
            case .running(let port, let pid): "running on 127.0.0.1:\(port) (pid \(pid))"
            }
        }
    }

    /// Where the cluster lives; its parent holds the lock and log files.
    public let clusterDirectory: URL
    /// The database Areo uses inside the cluster.
    public let databaseName: String
    /// Whether the server syncs to disk (off only for throwaway test clusters).
    public let durable: Bool
    /// The port to start on; `nil` picks a free one at each start.
    public let preferredPort: Int?
    public let logger: Logger

    public init(
        clusterDirectory: URL, databaseName: String = "areo", durable: Bool = true, preferredPort: Int? = nil, logger: Logger
    ) {
        self.clusterDirectory = clusterDirectory.standardizedFileURL
        self.databaseName = databaseName
        self.durable = durable
        self.preferredPort = preferredPort
        self.logger = logger
    }

    /// The user the PostgreSQL programs run as when Areo is root.
    static let serverUser = "postgres"

    var runAsUser: String? { SystemCommand.isRoot ? Self.serverUser : nil }
    var lockPath: String { clusterDirectory.path + ".lock" }
    var logFile: URL { clusterDirectory.appendingPathComponent("areo-server.log") }
    var commandLogFile: URL { clusterDirectory.deletingLastPathComponent().appendingPathComponent("postgres-command.log") }

    /// What the cluster directory holds now.
    public func status() -> Status {
        guard FileManager.default.fileExists(atPath: clusterDirectory.appendingPathComponent("PG_VERSION").path) else {
            return .notInitialized
        }
        guard let pidFile = try? String(contentsOf: clusterDirectory.appendingPathComponent("postmaster.pid"), encoding: .utf8)
        else { return .stopped }
        let lines = pidFile.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 4, let pid = Int32(lines[0].trimmingCharacters(in: .whitespaces)),
              let port = Int(lines[3].trimmingCharacters(in: .whitespaces))
        else { return .stopped }
        if kill(pid, 0) == 0 || errno == EPERM { return .running(port: port, pid: pid) }
        return .stopped
    }

    /// The location of Areo's database in a running cluster.
    public func location(port: Int) -> DatabaseLocation {
        DatabaseLocation(host: "127.0.0.1", port: port, username: "postgres", database: databaseName)
    }

    /// Starts the cluster (creating it first if needed) unless it is already running.
    /// - Returns: Where Areo's database is, and whether this call started the server (and so
    ///   should stop it when done).
    public func start() async throws -> (location: DatabaseLocation, startedHere: Bool) {
        let parent = clusterDirectory.deletingLastPathComponent()
        try createDirectory(parent, ownedByServer: false)
        let lock = try FileLock(path: lockPath)
        defer { lock.release() }

        var startedHere = false
        var port: Int
        switch status() {
        case .running(let runningPort, _):
            port = runningPort
            logger.info("using the running embedded PostgreSQL", metadata: ["port": "\(port)", "dir": "\(clusterDirectory.path)"])
        case .notInitialized:
            try initialise()
            fallthrough
        case .stopped:
            port = try launch()
            startedHere = true
        }
        let location = location(port: port)
        try await ensureDatabase(location)
        return (location, startedHere)
    }

    /// Stops the cluster if it is running (fast shutdown: sessions are ended, data is kept).
    public func stop() throws(StoreError) {
        guard case .running = status() else { return }
        let result = try SystemCommand(
            executable: try binary("pg_ctl"),
            arguments: ["-D", clusterDirectory.path, "-m", "fast", "-w", "-t", "60", "stop"],
            runAsUser: runAsUser
        ).run(outputFile: commandLogFile)
        guard result.status == 0 else {
            throw StoreError(.clusterCommandFailed, "pg_ctl stop failed for \(clusterDirectory.path)", detail: result.output)
        }
        logger.info("stopped the embedded PostgreSQL", metadata: ["dir": "\(clusterDirectory.path)"])
    }

    // MARK: - Steps

    private func initialise() throws(StoreError) {
        try createDirectory(clusterDirectory, ownedByServer: true)
        if let user = runAsUser {
            // The server user must be able to reach the directory through every parent.
            let probe = try SystemCommand(
                executable: URL(fileURLWithPath: "/usr/bin/test"), arguments: ["-w", clusterDirectory.path], runAsUser: user
            ).run(outputFile: commandLogFile)
            guard probe.status == 0 else {
                throw StoreError(
                    .clusterNotAccessible,
                    "the PostgreSQL user '\(user)' cannot reach \(clusterDirectory.path); choose a --data-dir outside private home directories (e.g. under /var/tmp)")
            }
        }
        logger.info("creating the embedded PostgreSQL cluster", metadata: ["dir": "\(clusterDirectory.path)"])
        let result = try SystemCommand(
            executable: try binary("initdb"),
            arguments: ["-D", clusterDirectory.path, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"],
            runAsUser: runAsUser
        ).run(outputFile: commandLogFile)
        guard result.status == 0 else {
            throw StoreError(.clusterCommandFailed, "initdb failed for \(clusterDirectory.path)", detail: result.output)
        }
        var settings = """

            # Written by areo: a private cluster reachable on loopback only.
            listen_addresses = '127.0.0.1'
            unix_socket_directories = ''
            max_connections = 100
            shared_buffers = 256MB

            """
        if !durable { settings += "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n" }
        let conf = clusterDirectory.appendingPathComponent("postgresql.conf")
        guard let handle = try? FileHandle(forWritingTo: conf) else {
            throw StoreError(.clusterCommandFailed, "cannot write \(conf.path)")
        }
        handle.seekToEndOfFile()
        handle.write(Data(settings.utf8))
        try? handle.close()
    }

    /// Starts the server. A port Areo picked itself may be taken by another process between the
    /// pick and the server's bind (busy machines, parallel tests): then it tries another one.
    private func launch() throws(StoreError) -> Int {
        var attempt = 1
        while true {
            do {
                return try launchOnce()
            } catch {
                guard preferredPort == nil, attempt < 3 else { throw error }
                logger.warning("embedded PostgreSQL did not start; trying another port", metadata: ["attempt": "\(attempt)", "detail": "\((error.detail ?? "").suffix(300))"])
                attempt += 1
            }
        }
    }

    private func launchOnce() throws(StoreError) -> Int {
        guard let port = preferredPort ?? freeLoopbackPort() else {
            throw StoreError(.clusterCommandFailed, "no free loopback port for the embedded PostgreSQL")
        }
        let result = try SystemCommand(
            executable: try binary("pg_ctl"),
            arguments: ["-D", clusterDirectory.path, "-l", logFile.path, "-w", "-t", "60", "-o", "-p \(port)", "start"],
            runAsUser: runAsUser
        ).run(outputFile: commandLogFile)
        guard result.status == 0, case .running(let runningPort, _) = status() else {
            let serverLog = (try? String(contentsOf: logFile, encoding: .utf8)).map { String($0.suffix(2000)) } ?? ""
            throw StoreError(
                .clusterCommandFailed, "pg_ctl could not start the embedded PostgreSQL in \(clusterDirectory.path)",
                detail: result.output + "\n" + serverLog)
        }
        logger.info("started the embedded PostgreSQL", metadata: ["port": "\(runningPort)", "dir": "\(clusterDirectory.path)"])
        return runningPort
    }

    private func ensureDatabase(_ location: DatabaseLocation) async throws {
        let name = databaseName
        try await Database.withDatabase(location: location.with(database: "postgres"), logger: logger) { database in
            let rows = try await database.client.query(
                "SELECT count(*) FROM pg_database WHERE datname = \(name)", logger: database.logger)
            var exists = false
            for try await count in rows.decode(Int.self) { exists = count > 0 }
            if !exists {
                do {
                    try await database.client.query(
                        PostgresQuery(unsafeSQL: "CREATE DATABASE \"\(name.replacingOccurrences(of: "\"", with: ""))\""),
                        logger: database.logger)
                } catch let error as PSQLError where error.serverInfo?[.sqlState] == "42P04" {
                    // created concurrently by another process: fine
                }
            }
        }
    }

    private func createDirectory(_ url: URL, ownedByServer: Bool) throws(StoreError) {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            if ownedByServer, let user = runAsUser {
                try FileManager.default.setAttributes(
                    [.ownerAccountName: user, .groupOwnerAccountName: user, .posixPermissions: 0o700], ofItemAtPath: url.path)
            }
        } catch {
            throw StoreError(.clusterCommandFailed, "cannot create \(url.path): \(error)")
        }
    }

    /// Finds a PostgreSQL program: `AREO_PG_BIN`, then Debian's versioned directories (newest
    /// first), then `PATH`.
    func binary(_ name: String) throws(StoreError) -> URL {
        var candidates: [String] = []
        if let dir = ProcessInfo.processInfo.environment["AREO_PG_BIN"], !dir.isEmpty { candidates.append(dir) }
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .compactMap(Int.init).sorted(by: >)
        candidates += versions.map { "/usr/lib/postgresql/\($0)/bin" }
        candidates += (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for dir in candidates {
            let path = URL(fileURLWithPath: dir).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: path.path) { return path }
        }
        throw StoreError(
            .postgresNotInstalled,
            "\(name) not found: install PostgreSQL (apt-get install postgresql) or set AREO_PG_BIN, or give --database-url")
    }
}
