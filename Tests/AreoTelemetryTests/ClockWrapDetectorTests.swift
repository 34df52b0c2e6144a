import AreoTelemetry
import Testing

/// The clock-wrap detector (ICD §6) on constructed streams.
@Suite struct ClockWrapDetectorTests {
    static let base = 720_044_031.5  // half a second before a multiple of 65 536 s

    func judge(_ detector: inout ClockWrapDetector, _ sclk: Double, _ sequence: UInt16, _ ert: Int64) -> ClockWrapDetector.Verdict {
        detector.judge(sclk: SpacecraftClock(seconds: sclk), sequenceCount: sequence, ertMicroseconds: ert)
    }

    @Test func wrappedStampsAreCorrectedAndGenuineJumpsAreNot() {
        var detector = ClockWrapDetector(state: nil)
        #expect(judge(&detector, Self.base, 100, 1_000_000).wraps == 0)
        // 0.1 s later by the clock, but stamped 65 536 s late: corrected.
        let wrapped = judge(&detector, Self.base + 0.6 + 65_536, 101, 1_100_000)
        #expect(wrapped.wraps == 1 && wrapped.evidence["sequence_count"] == "101")
        // The next one too (the reference now carries the corrected time).
        #expect(judge(&detector, Self.base + 0.7 + 65_536, 102, 1_200_000).wraps == 1)
        // A real gap of 65 536 s (ERT moved on as much) is not a wrap.
        var other = ClockWrapDetector(state: nil)
        _ = judge(&other, Self.base, 5, 0)
        #expect(judge(&other, Self.base + 65_536, 6, 65_536_000_000).wraps == 0)
    }

    /// A wrapped packet that arrives after its successor (a reordering) is corrected as well,
    /// and does not become the reference.
    @Test func aReorderedWrappedPacketIsCorrected() {
        var detector = ClockWrapDetector(state: nil)
        _ = judge(&detector, Self.base, 100, 1_000_000)
        #expect(judge(&detector, Self.base + 0.7 + 65_536, 102, 1_100_000).wraps == 1)
        let late = judge(&detector, Self.base + 0.6 + 65_536, 101, 1_200_000)
        #expect(late.outOfOrder && late.wraps == 1)
        #expect(detector.state?.sequenceCount == 102)
    }
}
