import AreoArchive
import AreoTelemetry
import ArgumentParser
import Foundation
import Logging
import PostgresNIO
#if canImport(Glibc)
import Glibc
#endif

/// `areo bench …`: speed and memory figures, each beside a peer measured in the same run.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Benchmarks (use a release build).", subcommands: [Ingest.self, Simulate.self, ProcessProduct.self, Refine.self, Serve.self, Archive.self, Tiles.self])

    /// Ingest of a synthetic pass beside PostgreSQL's own COPY of the same packet bytes.
    struct Ingest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ingest a synthetic pass of N packets; compare with COPY of the same bytes into a plain table.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Packets in the synthetic pass.") var packets = 1_000_000
        @Option(help: "Records per ingest transaction.") var batchSize = 4000

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeBenchLogger()
            let work = common.dataDirectory.appendingPathComponent("bench")
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            let passURL = work.appendingPathComponent("bench-\(packets).dds")
            let copyURL = work.appendingPathComponent("bench-\(packets).copy")
            defer {
                try? FileManager.default.removeItem(at: passURL)
                try? FileManager.default.removeItem(at: copyURL)
            }
            print("writing a synthetic pass of \(packets) packets …")
            let (bytes, packetBytes) = try Self.writePass(packets: packets, pass: passURL, copy: copyURL)

            let migrations = try common.loadMigrations()
            let session = try await DatabaseSession.open(common, logger: logger)
            defer { session.close() }
            let batchSize = self.batchSize
            let (ingestSeconds, report, cpuSeconds, copySeconds, peakMiB) = try await BenchCommand.withScratchDatabase(session, logger: logger) { location in
                nonisolated(unsafe) var cpuSeconds = 0.0
                let (ingestSeconds, report) = try await Database.withDatabase(location: location, logger: logger) { database in
                    try await MigrationRunner(client: database.client, logger: logger).migrate(migrations)
                    try await ScratchDatabases.createCopyPeerTable(database, name: "bench_copy", logger: logger)
                    var ingestor = PassIngestor(database: database, logger: logger)
                    ingestor.batchSize = batchSize
                    let start = ContinuousClock.now, cpuBefore = Self.cpuSeconds()
                    let report = try await ingestor.ingest(file: passURL)
                    cpuSeconds = Self.cpuSeconds() - cpuBefore
                    return ((ContinuousClock.now - start).seconds, report)
                }
                var usage = rusage()
                getrusage(RUSAGE_SELF.rawValue, &usage)
                let peakMiB = Double(usage.ru_maxrss) / 1024

                // The peer: psql's \copy of the same packet bytes (hex bytea, text format) into a plain table.
                let copyStart = ContinuousClock.now
                let psql = Process()
                psql.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                psql.arguments = ["psql", location.url, "-q", "-v", "ON_ERROR_STOP=1", "-c", "\\copy bench_copy (bytes) FROM '\(copyURL.path)'"]
                try psql.run()
                psql.waitUntilExit()
                let copySeconds = (ContinuousClock.now - copyStart).seconds
                guard psql.terminationStatus == 0 else { throw ValidationError("psql \\copy failed (is the PostgreSQL client installed?)") }

                return (ingestSeconds, report, cpuSeconds, copySeconds, peakMiB)
            }

            let n = Double(packets), mb = Double(packetBytes) / 1e6
            print("pass: \(packets) packets, \(String(format: "%.1f", Double(bytes) / 1e6)) MB on disk, \(String(format: "%.1f", mb)) MB of packets")
            print("areo ingest: \(String(format: "%.2f", ingestSeconds)) s = \(Int(n / ingestSeconds)) packets/s, \(String(format: "%.1f", mb / ingestSeconds)) MB/s"
                + " (new \(report.newPackets), fragments completed \(report.fragmentsCompleted))")
            print("postgres COPY (peer): \(String(format: "%.2f", copySeconds)) s = \(Int(n / copySeconds)) rows/s, \(String(format: "%.1f", mb / copySeconds)) MB/s")
            print("ratio areo/COPY: \(String(format: "%.2f", copySeconds / ingestSeconds))  (goal ≥ 0.5; ≥ 50 000 packets/s)")
            print("areo's own CPU time during ingest: \(String(format: "%.2f", cpuSeconds)) s (the rest is PostgreSQL's)")
            print("peak resident memory of areo: \(String(format: "%.0f", peakMiB)) MiB (pass file \(String(format: "%.0f", Double(bytes) / 1_048_576)) MiB)")
        }

        /// User + system CPU seconds of this process so far.
        static func cpuSeconds() -> Double {
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
            return seconds(usage.ru_utime) + seconds(usage.ru_stime)
        }

        /// Writes a pass of `packets` packets (fragments of 40 packets, one housekeeping packet in
        /// 100) and, beside it, the same packet bytes as a COPY text file.
        static func writePass(packets: Int, pass: URL, copy: URL) throws -> (fileBytes: Int, packetBytes: Int) {
            FileManager.default.createFile(atPath: pass.path, contents: nil)
            FileManager.default.createFile(atPath: copy.path, contents: nil)
            let passHandle = try FileHandle(forWritingTo: pass), copyHandle = try FileHandle(forWritingTo: copy)
            defer { try? passHandle.close(); try? copyHandle.close() }
            var writer = PassFileWriter()
            var copyText: [UInt8] = []
            let hex = Array("0123456789abcdef".utf8)
            var written = 0, fileBytes = 0, packetBytes = 0
            var sclk = SpacecraftClock(coarse: 700_000_000, fine: 0)
            var ert: Int64 = 1_780_000_000_000_000
            var framelet = 0
            func emit(_ packet: SpacePacket) {
                writer.append(packet, ertMicroseconds: ert)
                ert += 2500
                copyText.append(contentsOf: Array("\\\\x".utf8))
                for b in packet.bytes { copyText.append(hex[Int(b >> 4)]); copyText.append(hex[Int(b & 15)]) }
                copyText.append(10)
                packetBytes += packet.bytes.count
                written += 1
            }
            while written < packets {
                let payloadLength = 39 * 1008 - FragmentHeader.size + 500
                let payload = (0..<payloadLength).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ framelet) }
                let header = FragmentHeader(
                    observationID: UInt32(100_000 + framelet / 160), frameletIndex: UInt16(framelet / 4 % 40), band: Band(rawValue: UInt8(framelet % 4))!,
                    compression: .ccsds121, exposureStart: sclk, exposureDurationMicroseconds: 1500, windowFirstRow: 0, windowRows: 256,
                    windowFirstColumn: 0, windowColumns: 2048, bitsPerSample: 14, binning: 1, rotationAngleCentidegrees: 0,
                    frameletsPlannedPerBand: 40, payloadLength: UInt32(payloadLength), payloadCRC: CRC32.checksum(payload),
                    detectorTemperatureCentidegrees: -500)
                for packet in writer.fragmentPackets(header.bytes + payload, sclk: sclk) where written < packets { emit(packet) }
                sclk = SpacecraftClock(seconds: sclk.seconds + 0.1)
                framelet += 1
                if framelet % 2 == 0, written < packets {
                    emit(SpacePacket.make(
                        apid: SpacePacket.APID.housekeeping, flags: .unsegmented, sequenceCount: writer.nextSequenceCount(SpacePacket.APID.housekeeping),
                        sclk: sclk, serviceType: 3, serviceSubtype: 25, userData: [0, 1, 0, 1, 0x4E, 0x20]))
                }
                if writer.bytes.count > 8 << 20 || written >= packets {
                    let chunk = writer.drain()
                    fileBytes += chunk.count
                    passHandle.write(Data(chunk))
                    copyHandle.write(Data(copyText))
                    copyText.removeAll(keepingCapacity: true)
                }
            }
            return (fileBytes, packetBytes)
        }
    }
}

extension BenchCommand {
    /// Runs `body` against a database made for it on the session's server, dropped afterwards
    /// (also when `body` throws).
    static func withScratchDatabase<Result>(
        _ session: DatabaseSession, logger: Logger, _ body: (DatabaseLocation) async throws -> Result
    ) async throws -> Result {
        try await ScratchDatabases.with(on: session.location, logger: logger, body)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
