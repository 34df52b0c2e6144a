/// Compares the fragments that arrived for an observation with what its plan predicts, field by
/// field (ICD §10) — the first validation of every pass.
public struct PlanComparison: Sendable {
    /// What arrived of one fragment: its header (exposure start already clock-corrected) and status.
    public struct Arrival: Sendable {
        public var header: FragmentHeader
        public var correctedStart: Double
        public var status: FragmentAssembler<Int>.Status
        public var packetCount: Int

        public init(header: FragmentHeader, correctedStart: Double, status: FragmentAssembler<Int>.Status, packetCount: Int) {
            self.header = header
            self.correctedStart = correctedStart
            self.status = status
            self.packetCount = packetCount
        }
    }

    /// One difference between plan and arrival.
    public struct Finding: Sendable, Equatable {
        public enum Kind: String, Sendable, Codable {
            case fragmentMissing = "fragment_missing"
            case fragmentUnexpected = "fragment_unexpected"
            case fragmentIncomplete = "fragment_incomplete"
            case fragmentCorrupt = "fragment_corrupt"
            case headerMismatch = "header_mismatch"
        }
        public var kind: Kind
        public var frameletIndex: Int
        public var band: String
        public var detail: String
    }

    /// The observation's overall state.
    public enum Status: String, Sendable, Codable {
        case complete, partial, corrupt, unplanned
    }

    public let plan: ObservationPlan?
    public let arrivals: [Arrival]

    public init(plan: ObservationPlan?, arrivals: [Arrival]) {
        self.plan = plan
        self.arrivals = arrivals
    }

    public var findings: [Finding] {
        var findings: [Finding] = []
        for arrival in arrivals {
            let h = arrival.header
            let band = h.band?.name ?? "band \(h.bandCode)"
            switch arrival.status {
            case .incomplete, .open:
                findings.append(.init(kind: .fragmentIncomplete, frameletIndex: Int(h.frameletIndex), band: band, detail: "packets missing"))
            case .corrupt:
                findings.append(.init(kind: .fragmentCorrupt, frameletIndex: Int(h.frameletIndex), band: band, detail: "CRC failure"))
            case .complete: break
            }
        }
        guard let plan else { return findings }
        var seen = Set<String>()
        for arrival in arrivals {
            let h = arrival.header
            let k = Int(h.frameletIndex)
            let bandName = h.band?.name ?? "band \(h.bandCode)"
            seen.insert("\(k)/\(bandName)")
            guard k < plan.exposures, let window = plan.bands.first(where: { $0.band == bandName }) else {
                findings.append(.init(kind: .fragmentUnexpected, frameletIndex: k, band: bandName, detail: "not in the plan"))
                continue
            }
            var differences: [String] = []
            func check<T: Equatable>(_ name: String, _ got: T, _ want: T) {
                if got != want { differences.append("\(name): \(got) ≠ planned \(want)") }
            }
            check("compression", h.compression?.name ?? "\(h.compressionCode)", plan.compression)
            check("bits_per_sample", Int(h.bitsPerSample), plan.bitsPerSample)
            check("binning", Int(h.binning), plan.binning)
            check("exposure_us", h.exposureDurationMicroseconds, plan.exposureMicroseconds)
            check("rotation", Int(h.rotationAngleCentidegrees), Int((plan.rotationDegrees * 100).rounded()))
            check("framelets_planned", Int(h.frameletsPlannedPerBand), plan.exposures)
            check("first_row", Int(h.windowFirstRow), window.firstRow)
            check("rows", Int(h.windowRows), window.rows)
            check("first_col", Int(h.windowFirstColumn), window.firstCol)
            check("cols", Int(h.windowColumns), window.cols)
            let startError = arrival.correctedStart - plan.frameletStart(k)
            if abs(startError) > ObservationPlan.startTolerance {
                differences.append("start: \(arrival.correctedStart) is \(startError) s from planned \(plan.frameletStart(k))")
            }
            if plan.compression == "none" {
                let lines = window.rows / plan.binning, samples = window.cols / plan.binning
                let expectedLength = lines * samples * 2
                check("payload_length", Int(h.payloadLength), expectedLength)
                let expectedPackets = (FragmentHeader.size + expectedLength + 1007) / 1008
                if arrival.status == .complete { check("packets", arrival.packetCount, expectedPackets) }
            }
            if !differences.isEmpty {
                findings.append(.init(kind: .headerMismatch, frameletIndex: k, band: bandName, detail: differences.joined(separator: "; ")))
            }
        }
        for k in 0..<plan.exposures {
            for window in plan.bands where !seen.contains("\(k)/\(window.band)") {
                findings.append(.init(kind: .fragmentMissing, frameletIndex: k, band: window.band, detail: "no packet of it arrived"))
            }
        }
        return findings
    }

    /// complete: everything planned arrived whole and as planned; corrupt: a CRC failure or a
    /// header that differs; partial: fragments missing or incomplete; unplanned: no plan.
    public var status: Status {
        guard plan != nil else { return .unplanned }
        let kinds = Set(findings.map(\.kind))
        if kinds.contains(.fragmentCorrupt) || kinds.contains(.headerMismatch) || kinds.contains(.fragmentUnexpected) { return .corrupt }
        if kinds.contains(.fragmentMissing) || kinds.contains(.fragmentIncomplete) { return .partial }
        return .complete
    }
}
