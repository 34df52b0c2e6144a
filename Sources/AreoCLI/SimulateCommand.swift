import AreoSimulator
import AreoTelemetry
import ArgumentParser
import Foundation

/// `areo simulate --out DIR [--seed N] [--instrument tiny|small|cassis] [--orbits N] [--observations N] [--terrain] [--reference-map] [faults…]`
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Write a whole ICD-conformant mission with its ground truth (deterministic for a seed).",
        discussion: """
            Writes instrument.json, mission.plan.jsonl, pass_NNN.dds, calibration/cal-0001/, geometry/predicted.json \
            (with a timing and a pointing error) and geometry/reconstructed.json (exact), hk-dictionary.json, truth.json \
            (every injected fault) and truth/OBS_BAND.f32 (map-projected truth I/F, see docs/simulator.md).
            """)

    @Option(help: "Output directory.") var out: String
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "tiny | small | cassis") var instrument = "tiny"
    @Option(help: "Orbits simulated (≈ 2 h each).") var orbits = 2
    @Option(help: "Observations planned.") var observations = 3
    @Option(help: "Pass files.") var passes = 3
    @Option(help: "Housekeeping dictionary (ICD §5) to use.") var hkDictionary = "../shared/icd/hk-dictionary.json"
    @Option(help: "Dropped science packets.") var dropped = 0
    @Option(help: "Science packets with a flipped bit.") var bitFlips = 0
    @Option(help: "Records delivered twice where consecutive passes overlap.") var duplicates = 0
    @Option(help: "Pairs of adjacent records swapped.") var reorders = 0
    @Option(help: "Runs of stray bytes between records.") var strayBytes = 0
    @Flag(help: "Truncate the last record of the last pass.") var truncated = false
    @Option(help: "Observations with a saturated area.") var saturated = 0
    @Option(help: "Housekeeping yellow-limit violations.") var hkYellow = 0
    @Option(help: "Housekeeping red-limit violations.") var hkRed = 0
    @Flag(help: "One observation spans a coarse-clock wrap with the ICD §6 anomaly.") var clockWrap = false
    @Flag(help: "Every fault once (overrides the counts above).") var allFaults = false
    @Flag(inversion: .prefixedNo, help: "Write map-projected truth I/F (default: yes, except for cassis).") var truthMaps: Bool? = nil
    @Flag(help: "No progress output.") var quiet = false
    @Flag(help: "Terrain and the CaSSIS corrections' inputs: shape models (dem/), 10° off nadir, mechanism offsets, straylight (truth in truth.json).")
    var terrain = false
    @Flag(help: "Geometry refinement's inputs: a reference map (refmap/) over the first observation, a second observation overlapping it, a predicted kernel about a kilometre off (truth in truth.json).")
    var referenceMap = false

    func run() async throws {
        guard let preset = InstrumentPreset(rawValue: instrument) else { throw ValidationError("--instrument must be tiny, small or cassis") }
        guard let data = FileManager.default.contents(atPath: hkDictionary) else {
            throw ValidationError("cannot read the housekeeping dictionary \(hkDictionary) (--hk-dictionary)")
        }
        let dictionary = try HousekeepingDictionary.decode(data)
        var options = SimulationOptions()
        options.seed = seed
        options.instrument = preset
        options.orbits = orbits
        options.observations = observations
        options.passes = passes
        options.truthMaps = truthMaps
        options.terrain = terrain
        options.referenceMap = referenceMap
        if allFaults {
            options.faults = .all
        } else {
            var f = SimulationOptions.Faults()
            (f.dropped, f.bitFlips, f.duplicates, f.reorders, f.strayBytes, f.truncated) = (dropped, bitFlips, duplicates, reorders, strayBytes, truncated)
            (f.saturated, f.housekeepingYellow, f.housekeepingRed, f.clockWrap) = (saturated, hkYellow, hkRed, clockWrap)
            options.faults = f
        }
        let quiet = self.quiet
        let start = ContinuousClock.now
        let summary = try await MissionSimulator(options: options, dictionary: dictionary).run(into: URL(fileURLWithPath: out)) { line in
            let seconds = (ContinuousClock.now - start).seconds
            if !quiet { FileHandle.standardError.write(Data("simulate [\(String(format: "%6.1f", seconds)) s] \(line)\n".utf8)) }
        }
        print("\(out): \(summary.observations) observations, \(summary.fragments) fragments, \(summary.packets) packets in \(summary.passFiles.count) passes (\(String(format: "%.1f", summary.seconds)) s)")
    }
}
