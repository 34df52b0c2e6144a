import AreoGeometry
import AreoProcessing
import AreoRadiometry
import AreoTelemetry
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The processing inputs read back as processing needs them.
extension InputRepository {
    /// The stored kernel `id`, parsed.
    public func kernel(_ id: String) async throws -> GeometryKernel {
        let rows = try await database.client.query("SELECT kernel::text FROM geometry_kernels WHERE kernel_id = \(id)", logger: logger)
        for try await text in rows.decode(String.self) { return try GeometryKernel.parse(Data(text.utf8), file: "kernel \(id)") }
        throw ProcessingError(.inputReplaced, "geometry kernel \(id) vanished")
    }

    /// What ranks a kernel: its kind, content digest and (refined) the kernel it was derived from.
    public struct KernelIdentity: Sendable, Equatable {
        public var kernelID: String
        public var kind: GeometryKernel.Kind
        public var sha256: String
        public var derivedFrom: String?
    }

    /// The identities of the kernels `ids` held, by id.
    public func kernelIdentities(_ ids: [String]) async throws -> [String: KernelIdentity] {
        var result: [String: KernelIdentity] = [:]
        for try await (id, kind, sha, derived) in try await database.client.query(
            "SELECT kernel_id, kind, coalesce(content_sha256, ''), derived_from_kernel FROM geometry_kernels WHERE kernel_id = ANY(\(ids))", logger: logger
        ).decode((String, String, String, String?).self) {
            result[id] = KernelIdentity(kernelID: id, kind: GeometryKernel.Kind(rawValue: kind) ?? .predicted, sha256: sha, derivedFrom: derived)
        }
        return result
    }

    /// The newest instrument description.
    public func latestInstrument() async throws -> InstrumentDescription {
        let rows = try await database.client.query("SELECT description::text FROM instruments ORDER BY id DESC LIMIT 1", logger: logger)
        for try await text in rows.decode(String.self) { return try JSONDecoder().decode(InstrumentDescription.self, from: Data(text.utf8)) }
        throw ProcessingError(.noInstrument, "no instrument description is loaded; load one with `areo instrument load`")
    }

    /// Loads calibration set `id`, of each band only the detector `rows` given (a slice of the
    /// stored whole-detector arrays, read without fetching the rest).
    public func calibration(_ id: String, rows: [Band: Range<Int>]) async throws -> CalibrationSet {
        var description: CalibrationSet.Description? = nil
        for try await text in try await database.client.query(
            "SELECT description::text FROM calibration_sets WHERE calibration_id = \(id)", logger: logger).decode(String.self) {
            description = try JSONDecoder().decode(CalibrationSet.Description.self, from: Data(text.utf8))
        }
        guard let description else { throw ProcessingError(.inputReplaced, "calibration set \(id) vanished") }
        let columns = description.detector.cols
        var arrays: [Band: (bias: [UInt8], flat: [UInt8], bad: [UInt8], straylight: [UInt8]?, firstRow: Int)] = [:]
        for (band, range) in rows.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let rows = max(0, range.lowerBound)..<min(description.detector.rows, range.upperBound)
            guard !rows.isEmpty else { continue }
            var parts: [String: [UInt8]] = [:]
            for try await (kind, bytes) in try await database.client.query(
                """
                SELECT kind, substring(bytes FROM (CASE WHEN kind = 'bad' THEN 1 ELSE 4 END) * \(rows.lowerBound * columns)::int + 1
                                      FOR (CASE WHEN kind = 'bad' THEN 1 ELSE 4 END) * \(rows.count * columns)::int)
                FROM calibration_arrays WHERE calibration_id = \(id) AND band = \(Int(band.rawValue))
                """, logger: logger).decode((String, ByteBuffer).self) {
                parts[kind] = Array(bytes.readableBytesView)
            }
            if let bias = parts["bias"], let flat = parts["flat"], let bad = parts["bad"] {
                arrays[band] = (bias, flat, bad, parts["stray"], rows.lowerBound)
            }
        }
        return CalibrationSet(description: description, arrayBytes: arrays)
    }
}
