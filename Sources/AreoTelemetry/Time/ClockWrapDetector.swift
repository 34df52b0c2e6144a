/// Detects and corrects the clock wraparound anomaly (ICD §6) in one APID's packet stream.
///
/// Fed the packets of an APID in reception order, it compares each packet's SCLK with the last
/// packet accepted before it. A jump by a whole number of 65 536 s periods (± ``tolerance``) is
/// a wrap-affected time stamp when the rest of the evidence contradicts it: the sequence count
/// moved on by only a little, and the earth received time moved on by far less than the jump.
/// The corrected time removes the whole periods; the raw value is kept by the caller.
public struct ClockWrapDetector: Sendable {
    /// The last packet accepted, with its corrected time.
    public struct State: Sendable, Equatable, Codable {
        public var sequenceCount: UInt16
        public var sclk: Double
        public var ertMicroseconds: Int64
        public var wraps: Int

        public init(sequenceCount: UInt16, sclk: Double, ertMicroseconds: Int64, wraps: Int) {
            self.sequenceCount = sequenceCount
            self.sclk = sclk
            self.ertMicroseconds = ertMicroseconds
            self.wraps = wraps
        }
    }

    /// What the detector concluded about one packet.
    public struct Verdict: Sendable, Equatable {
        /// Whole 65 536 s periods to remove from the raw coarse time (0: not affected).
        public var wraps: Int
        /// The packet's sequence count went backwards: it arrived after a newer packet.
        public var outOfOrder: Bool
        /// The evidence, for the anomaly record, when `wraps != 0`.
        public var evidence: [String: String]
    }

    /// How far from a whole number of periods a jump may be, and how much ERT may advance.
    public static let tolerance: Double = 600
    /// The largest forward step of the sequence count still taken as continuity.
    public static let maximumSequenceStep = 1000

    public private(set) var state: State?

    public init(state: State?) {
        self.state = state
    }

    /// Judges one packet (in reception order) and, unless it is out of order or `trusted` is
    /// false, makes it the new reference.
    /// - Parameter plans: the planned observations around the packet. When the ERT cannot
    ///   vouch (the packet opens a pass downlinked long after the previous one, or has no
    ///   predecessor at all), a jump of whole periods that the plans explain — and, with a
    ///   predecessor, that the sequence count contradicts — is corrected too.
    public mutating func judge(
        sclk raw: SpacecraftClock, sequenceCount: UInt16, ertMicroseconds: Int64, trusted: Bool = true, plans: PlannedSpans? = nil
    ) -> Verdict {
        var verdict = Verdict(wraps: 0, outOfOrder: false, evidence: [:])
        if let previous = state {
            let step = Int((sequenceCount &- previous.sequenceCount) & 0x3FFF)
            verdict.outOfOrder = step > 8192
            // A packet that arrived after a newer one (a reordering) is judged by how far back it
            // lies: a wrapped stamp on it must be corrected too.
            let signedStep = verdict.outOfOrder ? step - 16_384 : step
            let delta = raw.seconds - previous.sclk
            let periods = (delta / SpacecraftClock.wrapPeriod).rounded()
            // In Double: two ERTs from outside may be any Int64s, and their difference must not trap.
            let ertStep = (Double(ertMicroseconds) - Double(previous.ertMicroseconds)) / 1e6
            if periods != 0, abs(delta - periods * SpacecraftClock.wrapPeriod) < Self.tolerance,
               signedStep != 0, abs(signedStep) <= Self.maximumSequenceStep, abs(ertStep) < Self.tolerance
            {
                verdict.wraps = Int(periods)
                verdict.evidence = [
                    "raw_sclk": String(raw.seconds),
                    "corrected_sclk": String(raw.shifted(byWraps: Int(periods)).seconds),
                    "previous_sequence_count": String(previous.sequenceCount),
                    "sequence_count": String(sequenceCount),
                    "previous_sclk": String(previous.sclk),
                    "sclk_jump_s": String(delta),
                    "ert_step_s": String(ertStep),
                ]
            } else if periods > 0, periods <= 2, abs(delta - periods * SpacecraftClock.wrapPeriod) < Self.tolerance,
                      signedStep != 0, abs(signedStep) <= Self.maximumSequenceStep,
                      let evidence = plans?.wrapEvidence(raw: raw.seconds), evidence.periods == Int(periods)
            {
                // The ERT gap says nothing (a later pass); the sequence count and the plan do.
                verdict.wraps = evidence.periods
                verdict.evidence = [
                    "raw_sclk": String(raw.seconds),
                    "corrected_sclk": String(raw.shifted(byWraps: evidence.periods).seconds),
                    "previous_sequence_count": String(previous.sequenceCount),
                    "sequence_count": String(sequenceCount),
                    "previous_sclk": String(previous.sclk),
                    "sclk_jump_s": String(delta),
                    "ert_step_s": String(ertStep),
                    "planned_observation": String(evidence.observationID),
                    "witness": "plan and sequence count (ERT gap too long to vouch)",
                ]
            }
        } else if let evidence = plans?.wrapEvidence(raw: raw.seconds) {
            // No predecessor: the plan alone places the packet.
            verdict.wraps = evidence.periods
            verdict.evidence = [
                "raw_sclk": String(raw.seconds),
                "corrected_sclk": String(raw.shifted(byWraps: evidence.periods).seconds),
                "sequence_count": String(sequenceCount),
                "planned_observation": String(evidence.observationID),
                "witness": "plan (no earlier packet of the stream)",
            ]
        }
        if trusted && !verdict.outOfOrder {
            state = State(
                sequenceCount: sequenceCount, sclk: raw.shifted(byWraps: verdict.wraps).seconds,
                ertMicroseconds: ertMicroseconds, wraps: verdict.wraps)
        }
        return verdict
    }
}
