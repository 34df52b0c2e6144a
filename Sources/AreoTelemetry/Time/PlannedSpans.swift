/// The planned observations around a stretch of telemetry, as the clock-wrap detector's third
/// witness (ICD §6, §10): a packet whose raw time falls in no plan, but whose time less a whole
/// number of 65 536 s periods falls in a plan that spans a wrap moment, after that moment, is a
/// wrap-affected packet of that observation — whatever the ERT did in between (a pass that opens
/// hours after the previous one).
public struct PlannedSpans: Sendable, Equatable {
    /// One plan's span of spacecraft time (seconds), and its observation.
    public struct Span: Sendable, Equatable {
        public var observationID: Int
        public var start: Double
        public var end: Double
        public init(observationID: Int, start: Double, end: Double) {
            (self.observationID, self.start, self.end) = (observationID, start, end)
        }
        /// The first wrap moment (a multiple of 65 536 s) inside the span, if any.
        public var wrapMoment: Double? {
            guard start.isFinite, end.isFinite else { return nil }
            let moment = (start / SpacecraftClock.wrapPeriod).rounded(.up) * SpacecraftClock.wrapPeriod
            return moment <= end ? moment : nil
        }
    }

    /// How far outside a plan's window a packet may still belong to it (s): its last
    /// exposure's packets are generated after the exposure.
    public static let slack: Double = 60

    public let spans: [Span]

    public init(_ spans: [Span]) { self.spans = spans.sorted { $0.start < $1.start } }

    /// Whether `t` lies in some plan's span (with ``slack``).
    public func isPlanned(_ t: Double) -> Bool {
        spans.contains { t >= $0.start - Self.slack && t <= $0.end + Self.slack }
    }

    /// The number of whole periods (1 or 2) the plans say to remove from `raw`, with the
    /// observation they point to; nil when the plans do not say `raw` is wrap-affected.
    public func wrapEvidence(raw: Double) -> (periods: Int, observationID: Int)? {
        guard raw.isFinite, !isPlanned(raw) else { return nil }
        for periods in 1...2 {
            let corrected = raw - Double(periods) * SpacecraftClock.wrapPeriod
            if let span = spans.first(where: { span in
                guard let moment = span.wrapMoment else { return false }
                return corrected >= moment && corrected <= span.end + Self.slack
            }) {
                return (periods, span.observationID)
            }
        }
        return nil
    }
}
