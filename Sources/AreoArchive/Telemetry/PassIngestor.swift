import AreoTelemetry
import Crypto
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Ingests pass files (ICD §2–6): every packet kept byte-exact with its delivery header, duplicates
/// stored once, clock-wrapped time stamps corrected, housekeeping decoded and limit-checked,
/// fragments reassembled (across passes), and every abnormality recorded as an anomaly.
///
/// Idempotent and crash-safe: the pass is identified by its content; packets, receptions,
/// housekeeping and anomalies are written in batches whose rows have natural keys (written with
/// `ON CONFLICT DO NOTHING`); all decisions are a deterministic function of the pass and of the
/// state saved at the end of the previous pass. The pass is marked complete, and the stream state
/// saved, in the final transaction. Killed at any point and run again, it ends where an
/// uninterrupted run would have.
public struct PassIngestor: Sendable {
    let database: Database
    let logger: Logger
    /// Records written per transaction.
    public var batchSize = 4000
    /// Pending science packets read per reassembly query.
    public var reassemblyPageSize = 20_000

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// What one ingest did.
    public struct Report: Sendable, Codable, Equatable {
        public var file: String
        public var passID: Int
        /// The pass had been ingested completely before: nothing changed.
        public var alreadyIngested: Bool
        public var records = 0
        public var newPackets = 0
        public var duplicates = 0
        public var idlePackets = 0
        public var crcErrors = 0
        public var damagedBytes = 0
        public var clockWrapCorrected = 0
        public var fragmentsCompleted = 0
        public var anomalies = 0
    }

    /// Ingests a pass file from disk, reading it window by window (memory bounded by the
    /// window and batch sizes, not by the file's size).
    /// - Parameters:
    ///   - file: the pass file.
    ///   - name: the name to record (default: the file's own name).
    public func ingest(file: URL, name: String? = nil) async throws -> Report {
        guard let handle = try? FileHandle(forReadingFrom: file) else {
            throw IngestError(.unreadable, file: file.path, "cannot read the pass file")
        }
        var hasher = SHA256()
        var size = 0
        while let chunk = try handle.read(upToCount: 8 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
            size += chunk.count
        }
        try? handle.close()
        let digest = ByteBuffer(bytes: hasher.finalize())
        return try await ingest(fileName: name ?? file.lastPathComponent, digest: digest, size: size) { body in
            try await PassFileReader(url: file).forEachWindow(body)
        }
    }

    /// Ingests the bytes of a pass file named `fileName` (for messages and the pass record).
    public func ingest(bytes: [UInt8], fileName: String) async throws -> Report {
        let digest = ByteBuffer(bytes: SHA256.hash(data: bytes))
        return try await ingest(fileName: fileName, digest: digest, size: bytes.count) { body in
            try await body(PassFileScanner(bytes: bytes).scan())
        }
    }

    private func ingest(
        fileName: String, digest: ByteBuffer, size: Int,
        events produce: (([PassFileScanner.Event]) async throws -> Void) async throws -> Void
    ) async throws -> Report {
        var logger = self.logger
        logger[metadataKey: "pass"] = "\(fileName)"
        let (passID, completed) = try await registerPass(fileName: fileName, sha256: digest, size: size)
        var report = Report(file: fileName, passID: passID, alreadyIngested: completed)
        if completed {
            logger.info("pass already ingested; nothing to do")
            return report
        }

        let dictionary = try await HousekeepingRepository(database: database, logger: logger).dictionary()
        var context = BatchContext(passID: passID, fileName: fileName, streams: try await loadStreamState(), dictionary: dictionary)
        var batch: [PassFileScanner.Record] = []
        var pendingAnomalies: [Anomaly] = []
        // Two stages overlap: while batch N is written (database), batch N+1 is parsed and
        // classified (Swift). At most one write is in flight; the in-stream reassembly state
        // passes from each write to the next. In-stream reassembly reassembles this pass's
        // science packets as they arrive: fragments that come out complete are written at once;
        // everything else waits in `reassembly_pending` for the end of the pass.
        try await withThrowingTaskGroup(of: WriteOutcome.self) { writes in
            var stream = StreamState()
            func absorb(_ outcome: WriteOutcome) {
                report.newPackets += outcome.inserted
                report.fragmentsCompleted += outcome.completedInStream
                stream = outcome.stream
            }
            func submit() async throws {
                guard let classified = try await classifyBatch(
                    batch, anomalies: pendingAnomalies, context: &context, report: &report, logger: logger)
                else { return }
                batch.removeAll(keepingCapacity: true)
                pendingAnomalies.removeAll()
                if let previous = try await writes.next() { absorb(previous) }
                let (state, writeLogger, ingestor) = (stream, logger, self)
                writes.addTask { try await ingestor.writeClassified(classified, stream: state, logger: writeLogger) }
            }
            try await produce { events in
                for event in events {
                    switch event {
                    case .record(let record):
                        batch.append(record)
                        report.records += 1
                        if batch.count >= batchSize { try await submit() }
                    case .damage(let damage):
                        report.damagedBytes += damage.length
                        logger.warning("damaged bytes skipped", metadata: ["offset": "\(damage.offset)", "length": "\(damage.length)", "rule": "\(damage.rule)"])
                        pendingAnomalies.append(Anomaly(
                            kind: damage.kind == .strayBytes ? .strayBytes : .truncatedRecord, severity: .warning, passID: passID,
                            fileOffset: damage.offset,
                            evidence: ["file": fileName, "offset": String(damage.offset), "length": String(damage.length), "rule": damage.rule],
                            dedupKey: "\(damage.kind.rawValue):\(passID):\(damage.offset)"))
                    }
                }
            }
            try await submit()
            while let outcome = try await writes.next() { absorb(outcome) }
        }

        let finishStart = ContinuousClock.now
        defer { logger.debug("finished pass", metadata: ["seconds": "\(ContinuousClock.now - finishStart)"]) }
        let finish = try await PassFinisher(database: database, logger: logger, reassemblyPageSize: reassemblyPageSize).finish(
            passID: passID, records: report.records, damagedBytes: report.damagedBytes, context: context)
        report.fragmentsCompleted += finish.fragmentsCompleted
        report.anomalies = try await countAnomalies(passID: passID)
        logger.info("pass ingested", metadata: [
            "records": "\(report.records)", "new": "\(report.newPackets)", "duplicates": "\(report.duplicates)",
            "crc_errors": "\(report.crcErrors)", "damaged_bytes": "\(report.damagedBytes)", "anomalies": "\(report.anomalies)",
        ])
        return report
    }

    // MARK: - Steps

    private func registerPass(fileName: String, sha256: ByteBuffer, size: Int) async throws -> (Int, Bool) {
        let rows = try await database.client.query(
            """
            INSERT INTO passes (file_name, sha256, size_bytes) VALUES (\(fileName), \(sha256), \(size))
            ON CONFLICT (sha256) DO UPDATE SET size_bytes = passes.size_bytes
            RETURNING id, completed_at IS NOT NULL
            """, logger: logger)
        for try await (id, completed) in rows.decode((Int, Bool).self) { return (id, completed) }
        throw IngestError(.notRecorded, file: fileName, "could not register the pass")
    }

    private func loadStreamState() async throws -> [UInt16: ClockWrapDetector.State] {
        var result: [UInt16: ClockWrapDetector.State] = [:]
        let rows = try await database.client.query(
            "SELECT apid, last_sequence_count, last_sclk, last_ert_us, wrap_correction FROM stream_state", logger: logger)
        for try await (apid, seq, sclk, ert, wraps) in rows.decode((Int, Int, Double, Int64, Int).self) {
            result[UInt16(apid)] = .init(sequenceCount: UInt16(seq), sclk: sclk, ertMicroseconds: ert, wraps: wraps)
        }
        return result
    }

    private func countAnomalies(passID: Int) async throws -> Int {
        let rows = try await database.client.query("SELECT count(*) FROM anomalies WHERE pass_id = \(passID)", logger: logger)
        for try await n in rows.decode(Int.self) { return n }
        return 0
    }
}

/// What carries over from one batch of a pass to the next.
struct BatchContext {
    let passID: Int
    let fileName: String
    /// Per-APID detectors, seeded from the state saved after the previous pass.
    var detectors: [UInt16: ClockWrapDetector]
    /// APIDs not in the ICD already reported for this pass.
    var unknownAPIDsReported: Set<UInt16> = []
    /// Per APID, the sequence count of the last packet received in this pass (duplicates included).
    var lastSequenceInPass: [UInt16: UInt16] = [:]
    /// Keys (→ offset) of the previous batch, which may not be committed yet.
    var previousBatchKeys: [PacketKey: Int] = [:]
    /// SCLK range of the new packets of this pass, per APID (for gap detection).
    var sclkRange: [UInt16: ClosedRange<Double>] = [:]
    /// Per APID, the new packets of this pass in arrival order, while they run without a break.
    var runs: [UInt16: SequenceRun] = [:]
    let dictionary: HousekeepingDictionary?

    init(passID: Int, fileName: String, streams: [UInt16: ClockWrapDetector.State], dictionary: HousekeepingDictionary?) {
        self.passID = passID
        self.fileName = fileName
        self.detectors = streams.mapValues { ClockWrapDetector(state: $0) }
        self.dictionary = dictionary
    }
}

/// The new packets of one APID in a pass as they arrive: while each follows the one before in
/// time with the next sequence count, the pass delivered an unbroken run, and the only places a
/// sequence gap can be are its two ends (PassFinisher then asks the archive for the two
/// neighbours instead of reading every packet of the span).
struct SequenceRun: Sendable {
    private(set) var first: (sequenceCount: Int, sclk: Double)
    private(set) var last: (sequenceCount: Int, sclk: Double)
    private(set) var unbroken = true

    init(sequenceCount: Int, sclk: Double) {
        first = (sequenceCount, sclk)
        last = first
    }

    mutating func append(sequenceCount: Int, sclk: Double) {
        let follows = sclk > last.sclk || (sclk == last.sclk && sequenceCount > last.sequenceCount)
        if !follows || (sequenceCount - last.sequenceCount) & 0x3FFF != 1 { unbroken = false }
        last = (sequenceCount, sclk)
    }
}

/// A packet's identity: same APID, sequence count, SCLK and bytes means the same packet.
struct PacketKey: Hashable {
    let apid: UInt16
    let sequenceCount: UInt16
    let coarse: UInt32
    let fine: UInt16
    let hash: [UInt8]

    init(_ packet: SpacePacket) {
        apid = packet.apid
        sequenceCount = packet.sequenceCount
        coarse = packet.sclk.coarse
        fine = packet.sclk.fine
        hash = Array(SHA256.hash(data: packet.bytes))
    }
}
