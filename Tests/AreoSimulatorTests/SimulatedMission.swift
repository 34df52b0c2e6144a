import AreoGeometry
import AreoSimulator
import AreoTelemetry
import AreoTestSupport
import Foundation

/// One simulated tiny mission with every fault, made once per test run and shared.
enum SimulatedMission {
    static let directory: URL = FileManager.default.temporaryDirectory.appendingPathComponent("areo-sim-\(ProcessInfo.processInfo.processIdentifier)")

    static let dictionary: HousekeepingDictionary = try! HousekeepingDictionary.decode(
        Data(contentsOf: TestDatabase.samplesDirectory.deletingLastPathComponent().appendingPathComponent("icd/hk-dictionary.json")))

    static var options: SimulationOptions {
        var options = SimulationOptions()
        options.seed = 7
        options.faults = .all
        return options
    }

    /// Simulates once (the first caller waits; later ones reuse the files).
    static func make() async throws -> URL {
        try await make(directory, options: options)
    }

    /// A clean mission (no faults, no truth maps): for the independent readers.
    static func clean() async throws -> URL {
        var options = SimulationOptions()
        options.seed = 11
        options.orbits = 1
        options.truthMaps = false
        return try await make(directory.appendingPathExtension("clean"), options: options)
    }

    /// A mission with terrain and the corrections' inputs (`--terrain`), with truth maps.
    static func terrain() async throws -> URL {
        var options = SimulationOptions()
        options.seed = 7
        options.terrain = true
        return try await make(directory.appendingPathExtension("terrain"), options: options)
    }

    /// The corrections' truth of a `--terrain` mission.
    struct TerrainTruth: Decodable {
        struct Terrain: Decodable {
            let fine_model_observation: Int?
            let mechanism_offsets_deg: [String: Double]
            let straylight_epsilon: [String: Double]
        }
        let terrain: Terrain
        let truth_maps: [Truth.TruthMap]
    }

    static func terrainTruth(_ directory: URL) throws -> TerrainTruth {
        try JSONDecoder().decode(TerrainTruth.self, from: Data(contentsOf: directory.appendingPathComponent("truth.json")))
    }

    static func make(_ directory: URL, options: SimulationOptions) async throws -> URL {
        try await Gate.shared.once(directory.path) {
            _ = try await MissionSimulator(options: options, dictionary: dictionary).run(into: directory)
        }
        return directory
    }

    actor Gate {
        static let shared = Gate()
        private var tasks: [String: Task<Void, any Error>] = [:]
        func once(_ key: String, _ body: @escaping @Sendable () async throws -> Void) async throws {
            let task = tasks[key] ?? Task { try await body() }
            tasks[key] = task
            try await task.value
        }
    }

    struct Truth: Decodable {
        struct Observation: Decodable { let observation_id: Int; let fragments: Int; let compression: String; let binning: Int }
        struct Injected: Decodable {
            let kind: String
            let count: Int?
            let pass: Int?
            let channel: String?
            let observation: Int?
            let packets: [Packet]?
            let obs: Int?
            let frag: [Int]?
        }
        struct Packet: Decodable { let obs: Int; let frag: [Int]; let chunk: Int }
        struct TruthMap: Decodable {
            let observation_id: Int
            let band: String
            let file: String
            let width: Int
            let height: Int
            let scale_m: Double
            let min_x_m: Double
            let max_y_m: Double
            let proj: String
            let saturated_area: Bool
        }
        let observations: [Observation]
        let injected: [Injected]
        let packets_total: Int
        let wrap_observation: Int?
        let truth_maps: [TruthMap]
    }

    static func truth() throws -> Truth {
        try JSONDecoder().decode(Truth.self, from: Data(contentsOf: directory.appendingPathComponent("truth.json")))
    }
}
