import AreoTelemetry
import Foundation
import Logging
import NIOCore
import PostgresNIO

extension PassIngestor {
    /// A batch classified and ready to be written.
    struct ClassifiedBatch: Sendable {
        let passID: Int
        let rows: [NewPacket]
        let housekeeping: [HousekeepingRow]
        let anomalies: [Anomaly]
        /// No packet of the batch was in the archive when it was classified, so its packets go in
        /// with a plain `INSERT` and its receptions with `COPY` (a concurrent ingest of an
        /// overlapping pass that wins the race makes them fail, and the batch is written again
        /// with `INSERT … ON CONFLICT`).
        let conflictFree: Bool
    }

    /// The in-stream reassembly state, handed from one batch's write to the next.
    struct StreamState: Sendable {
        var assembler = FragmentAssembler<Reassembler.PacketRef>()
        var openPackets: [Int] = []
    }

    /// What writing a batch did.
    struct WriteOutcome: Sendable {
        let inserted: Int
        let completedInStream: Int
        let stream: StreamState
    }

    /// Classifies one batch of records (with the pass-level anomalies found before them):
    /// duplicates, clock wraps, order, CRCs, housekeeping. Sequential: it carries the stream
    /// state of the pass in `context`.
    func classifyBatch(
        _ records: [PassFileScanner.Record], anomalies pending: [Anomaly], context: inout BatchContext,
        report: inout Report, logger: Logger
    ) async throws -> ClassifiedBatch? {
        guard !records.isEmpty || !pending.isEmpty else { return nil }
        let keys = records.map { PacketKey($0.packet) }
        let earlier = try await firstReceptions(of: keys)
        // The plans around this batch's science packets: the wrap detector's third witness.
        let scienceTimes = records.lazy.filter { $0.packet.apid == SpacePacket.APID.science }.map { $0.packet.sclk.seconds }
        var plans: PlannedSpans?
        if let low = scienceTimes.min(), let high = scienceTimes.max() {
            plans = try await PlanRepository(database: database, logger: logger).spans(around: low...high)
        }

        var anomalies = pending
        // Batches before the previous one are committed, so the database finds their duplicates;
        // the previous batch may still be being written, so its keys are remembered here too.
        var seenInBatch: [PacketKey: Int] = [:]
        defer { context.previousBatchKeys = seenInBatch }
        var newRows: [NewPacket] = []
        var housekeeping: [HousekeepingRow] = []
        for (index, record) in records.enumerated() {
            let packet = record.packet
            let key = keys[index]
            if packet.apid == SpacePacket.APID.idle {
                report.idlePackets += 1
                continue
            }
            let crcValid = packet.isCRCValid
            // Reception order within this pass, duplicates included: a step back is a reordering.
            if let last = context.lastSequenceInPass[packet.apid] {
                let step = Int((packet.sequenceCount &- last) & 0x3FFF)
                if step > 8192 {
                    anomalies.append(Anomaly(
                        kind: .outOfOrder, severity: .info, passID: context.passID, fileOffset: record.offset,
                        evidence: ["apid": String(packet.apid), "sequence_count": String(packet.sequenceCount), "after_sequence_count": String(last)],
                        dedupKey: "out_of_order:\(context.passID):\(record.offset)"))
                }
            }
            context.lastSequenceInPass[packet.apid] = packet.sequenceCount
            // A duplicate: received before, in an earlier pass or earlier in this one.
            var firstSeen: (pass: Int, offset: Int)? = nil
            if let e = earlier[index], e.pass < context.passID || (e.pass == context.passID && e.offset < record.offset) {
                firstSeen = e
            } else if let offset = seenInBatch[key] ?? context.previousBatchKeys[key], offset < record.offset {
                firstSeen = (context.passID, offset)
            }
            if let firstSeen {
                report.duplicates += 1
                anomalies.append(Anomaly(
                    kind: .duplicatePacket, severity: .info, passID: context.passID, fileOffset: record.offset,
                    evidence: [
                        "apid": String(packet.apid), "sequence_count": String(packet.sequenceCount), "sclk": packet.sclk.description,
                        "first_pass_id": String(firstSeen.pass), "first_offset": String(firstSeen.offset),
                    ],
                    dedupKey: "duplicate_packet:\(context.passID):\(record.offset)"))
                newRows.append(NewPacket(record: record, key: key, wraps: 0, isNew: false, crcValid: crcValid, sclk: packet.sclk.seconds))
                continue
            }
            seenInBatch[key] = record.offset

            if !crcValid {
                report.crcErrors += 1
                anomalies.append(Anomaly(
                    kind: .packetCRCError, severity: .error, passID: context.passID, fileOffset: record.offset,
                    evidence: [
                        "file": context.fileName, "offset": String(record.offset), "apid": String(packet.apid),
                        "sequence_count": String(packet.sequenceCount), "stored_crc": String(packet.storedCRC),
                        "computed_crc": String(packet.computedCRC), "rule": "ICD §3: CRC-16/CCITT-FALSE mismatch",
                    ],
                    dedupKey: "packet_crc_error:\(context.passID):\(record.offset)"))
            }

            var detector = context.detectors[packet.apid] ?? ClockWrapDetector(state: nil)
            let previousSCLK = detector.state?.sclk
            let verdict = detector.judge(
                sclk: packet.sclk, sequenceCount: packet.sequenceCount,
                ertMicroseconds: record.header.ertMicrosecondsSinceUnixEpoch, trusted: crcValid,
                plans: packet.apid == SpacePacket.APID.science ? plans : nil)
            context.detectors[packet.apid] = detector
            // Housekeeping is never affected by the wrap (ICD §6).
            let wraps = packet.apid == SpacePacket.APID.science ? verdict.wraps : 0

            switch packet.apid {
            case SpacePacket.APID.science:
                if wraps != 0, let witness = verdict.evidence["witness"] {
                    // The ERT could not vouch (a later pass): record what did, for this packet.
                    anomalies.append(Anomaly(
                        kind: .clockWrap, severity: .warning, observationID: verdict.evidence["planned_observation"].flatMap { Int($0) },
                        passID: context.passID, fileOffset: record.offset,
                        evidence: verdict.evidence.merging(["file": context.fileName, "offset": String(record.offset)]) { a, _ in a },
                        dedupKey: "clock_wrap_witness:\(context.passID):\(record.offset)"))
                    logger.warning("clock-wrapped time stamp corrected by \(witness)", metadata: verdict.evidence.mapValues { .string($0) })
                }
                if wraps != 0 {
                    report.clockWrapCorrected += 1
                    if report.clockWrapCorrected == 1 {
                        logger.warning("clock-wrapped time stamps corrected (ICD §6)", metadata: verdict.evidence.mapValues { .string($0) })
                    }
                }
            case SpacePacket.APID.housekeeping:
                do {
                    let samples = try HousekeepingSample.decode(userData: packet.userData)
                    for sample in samples {
                        let channel = context.dictionary?.channel(id: sample.channelID)
                        let value = channel?.engineering(raw: sample.raw)
                        housekeeping.append(HousekeepingRow(offset: record.offset, channelID: Int(sample.channelID), sclk: packet.sclk.seconds, raw: Int(sample.raw), value: value))
                        if let channel, let value, let level = channel.limitLevel(of: value) {
                            let limits = level == .red ? channel.red : channel.yellow
                            anomalies.append(Anomaly(
                                kind: level == .red ? .housekeepingRed : .housekeepingYellow,
                                severity: level == .red ? .alarm : .warning, passID: context.passID, fileOffset: record.offset,
                                evidence: [
                                    "channel": channel.name, "value": String(value), "unit": channel.unit,
                                    "limits": "[\(limits[0]), \(limits[1])]", "sclk": String(packet.sclk.seconds),
                                ],
                                dedupKey: "hk:\(packet.sclk.ticks):\(packet.sequenceCount):\(channel.id)"))
                        }
                    }
                } catch {
                    anomalies.append(Anomaly(
                        kind: .malformedHousekeeping, severity: .warning, passID: context.passID, fileOffset: record.offset,
                        evidence: ["rule": error.rule, "offset": String(record.offset)],
                        dedupKey: "malformed_housekeeping:\(context.passID):\(record.offset)"))
                }
            default:
                if !context.unknownAPIDsReported.contains(packet.apid) {
                    context.unknownAPIDsReported.insert(packet.apid)
                    logger.notice("packets of an APID the ICD does not define are kept raw", metadata: ["apid": "\(packet.apid)"])
                    anomalies.append(Anomaly(
                        kind: .unknownAPID, severity: .info, passID: context.passID, fileOffset: record.offset,
                        evidence: ["apid": String(packet.apid)], dedupKey: "unknown_apid:\(context.passID):\(packet.apid)"))
                }
            }
            var corrected = packet.sclk.shifted(byWraps: wraps).seconds
            // A packet that fails its CRC may have a damaged time stamp: it is ordered at the time
            // of the last trusted packet of its APID instead (its sequence count places it after
            // that one), so reassembly does not misplace it. The raw SCLK is kept as received.
            if !crcValid, packet.apid == SpacePacket.APID.science, let previous = previousSCLK {
                corrected = previous
            }
            let range = context.sclkRange[packet.apid].map { min($0.lowerBound, corrected)...max($0.upperBound, corrected) } ?? corrected...corrected
            context.sclkRange[packet.apid] = range
            if context.runs[packet.apid] == nil {
                context.runs[packet.apid] = SequenceRun(sequenceCount: Int(packet.sequenceCount), sclk: corrected)
            } else {
                context.runs[packet.apid]!.append(sequenceCount: Int(packet.sequenceCount), sclk: corrected)
            }
            newRows.append(NewPacket(record: record, key: key, wraps: wraps, isNew: true, crcValid: crcValid, sclk: corrected))
        }

        return ClassifiedBatch(
            passID: context.passID, rows: newRows, housekeeping: housekeeping, anomalies: anomalies, conflictFree: earlier.isEmpty)
    }

    /// Writes a classified batch in one transaction and reassembles its science packets in
    /// stream; runs concurrently with the classification of the next batch.
    func writeClassified(_ batch: ClassifiedBatch, stream: StreamState, logger: Logger) async throws -> WriteOutcome {
        guard batch.conflictFree else { return try await write(batch, stream: stream, conflictFree: false, logger: logger) }
        do {
            return try await write(batch, stream: stream, conflictFree: true, logger: logger)
        } catch let error as PSQLError where error.isUniqueViolation {
            logger.notice("packets of this batch were stored concurrently; writing it again with INSERT … ON CONFLICT")
            return try await write(batch, stream: stream, conflictFree: false, logger: logger)
        }
    }

    private func write(_ batch: ClassifiedBatch, stream: StreamState, conflictFree: Bool, logger: Logger) async throws -> WriteOutcome {
        let (passID, newRows, housekeeping, anomalies) = (batch.passID, batch.rows, batch.housekeeping, batch.anomalies)
        let (inserted, completedInStream, streamAfter) = try await database.client.inTransaction(logger: logger) { connection in
            let inserted: Int, ids: [Int], assembled: InStreamAssembly
            if conflictFree {
                // Ids are reserved first, so the in-stream reassembly (Swift) runs while the
                // server stores the packets and their receptions.
                let reserved = try await Self.reservePacketIDs(newRows.count { $0.isNew }, connection: connection, logger: logger)
                var provisional = [Int](repeating: 0, count: newRows.count)
                var next = 0
                for index in newRows.indices where newRows[index].isNew {
                    provisional[index] = reserved[next]
                    next += 1
                }
                let reservedIDs = provisional
                async let assembly = Self.assembleInStream(newRows, ids: reservedIDs, stream: stream)
                ids = try await Self.insertNewPackets(newRows, ids: reservedIDs, passID: passID, connection: connection, logger: logger)
                inserted = next
                try await Self.copyReceptions(newRows, ids: ids, passID: passID, connection: connection, logger: logger)
                assembled = await assembly
            } else {
                inserted = try await Self.insertPackets(newRows.filter(\.isNew), passID: passID, connection: connection, logger: logger)
                ids = try await Self.packetIDs(newRows.map(\.key), connection: connection, logger: logger)
                try await Self.insertReceptions(newRows, ids: ids, passID: passID, connection: connection, logger: logger)
                assembled = Self.assembleInStream(newRows, ids: ids, stream: stream)
            }
            var offsetToPacket: [Int: Int] = [:]
            for (row, id) in zip(newRows, ids) { offsetToPacket[row.record.offset] = id }
            var written = Reassembler.Outcome()
            if !assembled.completed.fragments.isEmpty {
                try await Reassembler(connection: connection, logger: logger).write(
                    assembled.completed, into: &written, recordOrphans: false, packetsAreNew: conflictFree,
                    mayBePending: conflictFree ? Set(stream.openPackets) : nil)
            }
            if !assembled.pending.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO reassembly_pending (packet_id, sclk, sequence_count)
                    SELECT id, sclk, sequence_count FROM packets WHERE id = ANY(\(assembled.pending)::int8[])
                    ON CONFLICT DO NOTHING
                    """, logger: logger)
            }
            try await Self.insertHousekeeping(housekeeping, packetIDs: offsetToPacket, connection: connection, logger: logger)
            try await AnomalyRecorder.insert(anomalies, packetIDs: offsetToPacket, connection: connection, logger: logger)
            return (inserted, written.completed, assembled.stream)
        }
        return WriteOutcome(inserted: inserted, completedInStream: completedInStream, stream: streamAfter)
    }

    /// What in-stream reassembly of a batch yields: the fragments it completed, the packets that
    /// must wait in `reassembly_pending` (of incomplete fragments, orphans, and the fragment still
    /// open, which may complete in a later batch), and the state carried to the next batch.
    struct InStreamAssembly: Sendable {
        var completed = FragmentAssembler<Reassembler.PacketRef>.Result()
        var pending: [Int] = []
        var stream: StreamState
    }

    /// Reassembles the batch's new science packets (`ids[i]` is row i's packet id) in arrival
    /// order, continuing from `stream`. Pure: no database.
    static func assembleInStream(_ rows: [NewPacket], ids: [Int], stream: StreamState) -> InStreamAssembly {
        var result = InStreamAssembly(stream: stream)
        for (row, id) in zip(rows, ids) where row.isNew && row.record.packet.apid == SpacePacket.APID.science {
            let packet = row.record.packet
            if packet.sequenceFlags == .first || packet.sequenceFlags == .unsegmented {
                result.pending.append(contentsOf: result.stream.openPackets)  // the previous one ended without its last segment
                result.stream.openPackets = []
            }
            result.stream.openPackets.append(id)
            result.stream.assembler.add(.init(
                reference: .init(id: id, sclk: row.sclk), flags: packet.sequenceFlags,
                sequenceCount: packet.sequenceCount, crcValid: row.crcValid, userData: packet.userData))
            let drained = result.stream.assembler.drain()
            if !drained.orphans.isEmpty {
                let orphans = Set(drained.orphans.map(\.id))
                result.pending.append(contentsOf: drained.orphans.map(\.id))
                result.stream.openPackets.removeAll { orphans.contains($0) }
            }
            for fragment in drained.fragments {
                let members = Set(fragment.references.map(\.id))
                result.stream.openPackets.removeAll { members.contains($0) }
                if fragment.status != .complete { result.pending.append(contentsOf: members) }
            }
            result.completed.fragments.append(contentsOf: drained.fragments.filter { $0.status == .complete })
        }
        // The fragment still open keeps its packets pending until it completes (here or later).
        result.pending.append(contentsOf: result.stream.openPackets)
        return result
    }

    struct NewPacket: Sendable {
        let record: PassFileScanner.Record
        let key: PacketKey
        let wraps: Int
        let isNew: Bool
        /// The packet's CRC-16 is right (computed once, in classification).
        let crcValid: Bool
        /// The SCLK it is stored and ordered by: clock-wrap corrected (ICD §6), and for a packet
        /// that fails its CRC, its trusted predecessor's.
        let sclk: Double
    }

    struct HousekeepingRow: Sendable {
        let offset: Int
        let channelID: Int
        let sclk: Double
        let raw: Int
        let value: Double?
    }

    /// For each key, the first reception of the packet if it is already stored.
    private func firstReceptions(of keys: [PacketKey]) async throws -> [Int: (pass: Int, offset: Int)] {
        guard !keys.isEmpty else { return [:] }
        let rows = try await database.client.query(
            """
            SELECT k.ord::int8, first.pass_id, first.file_offset
            FROM unnest(\(keys.map { Int($0.apid) })::int8[], \(keys.map { Int($0.sequenceCount) })::int8[],
                        \(keys.map { Int($0.coarse) })::int8[], \(keys.map { Int($0.fine) })::int8[],
                        \(keys.map { ByteBuffer(bytes: $0.hash) })::bytea[])
                 WITH ORDINALITY AS k(apid, seq, coarse, fine, hash, ord)
            JOIN packets p ON p.apid = k.apid AND p.sequence_count = k.seq AND p.sclk_coarse_raw = k.coarse
                          AND p.sclk_fine = k.fine AND p.content_hash = k.hash
            JOIN LATERAL (SELECT pass_id, file_offset FROM receptions r WHERE r.packet_id = p.id
                          ORDER BY pass_id, file_offset LIMIT 1) first ON true
            """, logger: logger)
        var result: [Int: (Int, Int)] = [:]
        for try await (ordinal, pass, offset) in rows.decode((Int, Int, Int).self) { result[ordinal - 1] = (pass, offset) }
        return result
    }

    private static func insertPackets(_ rows: [NewPacket], passID: Int, connection: PostgresConnection, logger: Logger) async throws -> Int {
        guard !rows.isEmpty else { return 0 }
        let p = rows.map(\.record.packet)
        let query: PostgresQuery = """
            WITH ins AS (
              INSERT INTO packets (apid, sequence_flags, sequence_count, sclk_coarse_raw, sclk_fine, wrap_correction, sclk,
                                   service_type, service_subtype, crc_ok, content_hash, bytes, first_pass_id, first_ert_us)
              SELECT * FROM unnest(
                \(p.map { Int($0.apid) })::int4[], \(p.map { Int($0.sequenceFlags.rawValue) })::int2[],
                \(p.map { Int($0.sequenceCount) })::int4[], \(p.map { Int($0.sclk.coarse) })::int8[],
                \(p.map { Int($0.sclk.fine) })::int4[], \(rows.map(\.wraps))::int4[],
                \(rows.map(\.sclk))::float8[],
                \(p.map { Int($0.serviceType) })::int2[], \(p.map { Int($0.serviceSubtype) })::int2[],
                \(rows.map(\.crcValid))::bool[], \(rows.map { ByteBuffer(bytes: $0.key.hash) })::bytea[],
                \(p.map { ByteBuffer(bytes: $0.bytes) })::bytea[],
                array_fill(\(passID)::int8, ARRAY[\(rows.count)::int4]),
                \(rows.map { $0.record.header.ertMicrosecondsSinceUnixEpoch })::int8[])
              ON CONFLICT ON CONSTRAINT packets_identity DO NOTHING
              RETURNING 1)
            SELECT count(*) FROM ins
            """
        for try await n in try await connection.query(query, logger: logger).decode(Int.self) { return n }
        return 0
    }

    /// Copies the batch's new packets (binary `COPY`) under ids reserved from the table's
    /// sequence beforehand, without `ON CONFLICT` (classification found none of them stored; a
    /// concurrent ingest that stored one meanwhile makes this fail with a unique violation, and
    /// the batch is written again the careful way).
    /// Returns the id of every row (a repeat within the batch gets the id of its first copy).
    private static func insertNewPackets(_ rows: [NewPacket], ids provisional: [Int], passID: Int, connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        if rows.contains(where: \.isNew) {
            var copy = CopyBinaryRows(columns: 15, capacity: rows.count * 1150)
            for (row, id) in zip(rows, provisional) where row.isNew {
                let packet = row.record.packet
                copy.startRow()
                copy.append(Int64(id))
                copy.append(Int32(packet.apid))
                copy.append(Int16(packet.sequenceFlags.rawValue))
                copy.append(Int32(packet.sequenceCount))
                copy.append(Int64(packet.sclk.coarse))
                copy.append(Int32(packet.sclk.fine))
                copy.append(Int32(row.wraps))
                copy.append(row.sclk)
                copy.append(Int16(packet.serviceType))
                copy.append(Int16(packet.serviceSubtype))
                copy.append(row.crcValid)
                copy.append(bytes: row.key.hash)
                copy.append(bytes: packet.bytes)
                copy.append(Int64(passID))
                copy.append(Int64(row.record.header.ertMicrosecondsSinceUnixEpoch))
            }
            try await copy.copy(
                into: "packets",
                columns: ["id", "apid", "sequence_flags", "sequence_count", "sclk_coarse_raw", "sclk_fine", "wrap_correction", "sclk",
                          "service_type", "service_subtype", "crc_ok", "content_hash", "bytes", "first_pass_id", "first_ert_us"],
                connection: connection, logger: logger)
        }
        var ids = provisional
        let repeated = rows.indices.filter { !rows[$0].isNew }
        if !repeated.isEmpty {
            let found = try await packetIDs(repeated.map { rows[$0].key }, connection: connection, logger: logger)
            for (index, id) in zip(repeated, found) { ids[index] = id }
        }
        return ids
    }

    /// Streams the batch's receptions into `receptions` with binary `COPY`.
    private static func copyReceptions(_ rows: [NewPacket], ids: [Int], passID: Int, connection: PostgresConnection, logger: Logger) async throws {
        guard !rows.isEmpty else { return }
        var copy = CopyBinaryRows(columns: 8, capacity: rows.count * 80)
        for (row, id) in zip(rows, ids) {
            let header = row.record.header
            copy.startRow()
            copy.append(Int64(passID))
            copy.append(Int64(row.record.offset))
            copy.append(Int64(id))
            copy.append(Int64(header.ertMicrosecondsSinceUnixEpoch))
            copy.append(Int32(header.stationID))
            copy.append(Int32(header.virtualChannel))
            copy.append(Int16(header.deliveryServiceType))
            copy.append(Int16(header.timeQuality))
        }
        try await copy.copy(
            into: "receptions",
            columns: ["pass_id", "file_offset", "packet_id", "ert_us", "station_id", "virtual_channel", "delivery_service_type", "time_quality"],
            connection: connection, logger: logger)
    }

    /// Draws `count` packet ids from the sequence, a block of ``packetIDBlock`` per `nextval`
    /// (migration 0007): ids no other session can be given.
    static func reservePacketIDs(_ count: Int, connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        let blocks = (count + packetIDBlock - 1) / packetIDBlock
        var ids: [Int] = []
        ids.reserveCapacity(blocks * packetIDBlock)
        let starts = try await connection.query(
            "SELECT nextval('packets_id_seq')::int8 FROM generate_series(1, \(blocks))", logger: logger)
        for try await start in starts.decode(Int.self) { ids.append(contentsOf: start..<(start + packetIDBlock)) }
        return Array(ids.prefix(count))
    }

    /// Ids a `nextval` of `packets_id_seq` reserves (its INCREMENT BY).
    static let packetIDBlock = 8192

    private static func packetIDs(_ keys: [PacketKey], connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        guard !keys.isEmpty else { return [] }
        let rows = try await connection.query(
            """
            SELECT p.id FROM unnest(\(keys.map { Int($0.apid) })::int8[], \(keys.map { Int($0.sequenceCount) })::int8[],
                        \(keys.map { Int($0.coarse) })::int8[], \(keys.map { Int($0.fine) })::int8[],
                        \(keys.map { ByteBuffer(bytes: $0.hash) })::bytea[])
                 WITH ORDINALITY AS k(apid, seq, coarse, fine, hash, ord)
            JOIN packets p ON p.apid = k.apid AND p.sequence_count = k.seq AND p.sclk_coarse_raw = k.coarse
                          AND p.sclk_fine = k.fine AND p.content_hash = k.hash
            ORDER BY k.ord
            """, logger: logger)
        var ids: [Int] = []
        ids.reserveCapacity(keys.count)
        for try await id in rows.decode(Int.self) { ids.append(id) }
        guard ids.count == keys.count else { throw IngestError(.inconsistent, file: "", "internal: \(ids.count) packet ids for \(keys.count) keys") }
        return ids
    }

    private static func insertReceptions(_ rows: [NewPacket], ids: [Int], passID: Int, connection: PostgresConnection, logger: Logger) async throws {
        guard !rows.isEmpty else { return }
        let h = rows.map(\.record.header)
        try await connection.query(
            """
            INSERT INTO receptions (pass_id, file_offset, packet_id, ert_us, station_id, virtual_channel, delivery_service_type, time_quality)
            SELECT \(passID), * FROM unnest(\(rows.map(\.record.offset))::int8[], \(ids)::int8[],
                \(h.map(\.ertMicrosecondsSinceUnixEpoch))::int8[], \(h.map { Int($0.stationID) })::int4[],
                \(h.map { Int($0.virtualChannel) })::int4[], \(h.map { Int($0.deliveryServiceType) })::int2[],
                \(h.map { Int($0.timeQuality) })::int2[])
            ON CONFLICT DO NOTHING
            """, logger: logger)
    }

    private static func insertHousekeeping(_ rows: [HousekeepingRow], packetIDs: [Int: Int], connection: PostgresConnection, logger: Logger) async throws {
        let rows = rows.filter { packetIDs[$0.offset] != nil }
        guard !rows.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO housekeeping (packet_id, channel_id, sclk, raw, value)
            SELECT * FROM unnest(\(rows.map { packetIDs[$0.offset]! })::int8[], \(rows.map(\.channelID))::int4[],
                \(rows.map(\.sclk))::float8[], \(rows.map(\.raw))::int4[],
                (SELECT array_agg(NULLIF(v, '')::float8 ORDER BY i) FROM unnest(\(rows.map { $0.value.map { "\($0)" } ?? "" })::text[]) WITH ORDINALITY AS t(v, i)))
            ON CONFLICT DO NOTHING
            """, logger: logger)
    }
}
