import AreoFuzzTargets
import AreoGeometry
import AreoQuery
import AreoRadiometry
import AreoTelemetry
import Foundation
import Testing

/// Every input a fuzzer once crashed on (and the hostile values the issues named) goes through
/// the same entry points again: each must now return, and the parsers must refuse it with a
/// clear error instead of trapping.
@Suite struct FuzzRegressionTests {
    static let regressions = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Regressions")

    @Test func everyKeptCrashInputNowReturns() throws {
        var replayed = 0
        for target in FuzzTargets.all.keys.sorted() {
            let folder = Self.regressions.appendingPathComponent(target)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            for name in names.sorted() where !name.hasPrefix(".") {
                let bytes = [UInt8](try Data(contentsOf: folder.appendingPathComponent(name)))
                FuzzTargets.all[target]!(bytes)
                replayed += 1
            }
        }
        #expect(replayed >= 1, "the regression folders hold the kept inputs")
    }

    @Test func everyTargetTakesEmptyAndRandomInput() {
        var generator = SystemRandomNumberGenerator()
        for (_, target) in FuzzTargets.all {
            target([])
            for length in [1, 17, 64, 600] {
                target((0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) })
            }
        }
    }

    @Test func wrapCalendarOverMillenniaIsBoundedAndCannotTrap() {
        let correlation = ClockCorrelation(points: [.init(sclk: 700_000_000, t: 830_000_000)])
        // 1667 and 9999 map to clock readings below 0 and above 2³²: nothing to convert, nothing traps.
        let early = correlation.wraps(fromT: GroundTime.t(date: Date(timeIntervalSince1970: -9_674_952_853)), toT: 0)
        #expect(early.isEmpty)
        let all = correlation.wraps(fromT: -1e18, toT: 1e18, limit: 50)
        #expect(all.count == 50)
        #expect(all.first?.coarse == 0)
        #expect(correlation.wraps(fromT: .nan, toT: .infinity).isEmpty)
    }

    @Test func queryRulesNameTheParameterAndRange() throws {
        let q = QueryParameters(queryString: "limit=-5&from=1667-09-11T17:05:47Z&to=2026-06-02T02:40:18Z&scale=nan&offset=99999999999999999999")
        #expect(throws: ParameterError("limit", "an integer in 1…10000", value: "-5")) { try q.limit(standard: 1000, maximum: 10_000) }
        #expect(throws: ParameterError.self) { try q.timeRange("from", "to") }
        #expect(throws: ParameterError.self) { try q.number("scale", in: 0.5...100_000) }
        #expect(throws: ParameterError.self) { try q.offset() }
        let long = QueryParameters(queryString: "from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z")
        let error = try #require(throws: ParameterError.self) { try long.timeRange("from", "to", maximumSpan: 400 * 86_400) }
        #expect(error.description.contains("400 days"))
        #expect(try QueryParameters(queryString: "limit=7").limit(standard: 100, maximum: 1000) == 7)
        #expect(QueryParameters.microseconds(Date(timeIntervalSince1970: 1_780_000_000.5)) == 1_780_000_000_500_000)
        #expect(QueryParameters.microseconds(Date(timeIntervalSince1970: -1e300)) == QueryParameters.microseconds(QueryParameters.acceptedTimes.lowerBound))
    }

    @Test func hostileNumbersInInputFilesAreRulesNotTraps() {
        let instrument = #"{"name":"x","detector":{"rows":9223372036854775807,"cols":2,"pixel_pitch_mm":0.01,"focal_length_mm":800,"principal_point":[1,1]},"bands":[{"id":0,"name":"PAN","center_nm":650,"window":{"first_row":9223372036854775807,"rows":9223372036854775807,"first_col":0,"cols":1}}]}"#
        #expect(throws: TelemetryError.self) { try InstrumentDescription.parse(Data(instrument.utf8), file: "instrument.json") }
        let calibration = #"{"calibration_id":"c","produced":"2026-01-01T00:00:00Z","applies_from_sclk":0,"detector":{"rows":4294967296,"cols":4294967296},"bands":{}}"#
        #expect(throws: TelemetryError.self) { try CalibrationSet.parse(description: Data(calibration.utf8), file: "calibration.json") { _ in nil } }
        let plan = #"{"observation_id":1,"start_sclk":1e300,"exposures":9223372036854775807,"interval_s":1e308,"exposure_us":1,"binning":1,"bits_per_sample":12,"compression":"none","rotation_deg":1e300,"bands":[{"band":"PAN","first_row":0,"rows":99999999,"first_col":0,"cols":1}]}"#
        #expect(throws: TelemetryError.self) { try ObservationPlan.parseLines(Data(plan.utf8), file: "p.plan.jsonl") }
        let dictionary = #"{"dictionary_id":"d","channels":[{"id":1,"name":"T","unit":"C","coefficients":[],"yellow":[1],"red":[0,1]}]}"#
        #expect(throws: TelemetryError.self) { try HousekeepingDictionary.parse(Data(dictionary.utf8), file: "hk.json") }
    }
}
