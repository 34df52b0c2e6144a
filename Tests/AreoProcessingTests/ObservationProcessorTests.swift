import AreoGeometry
import AreoProcessing
import AreoTelemetry
import Foundation
import Testing

@Suite struct ObservationProcessorTests {
    @Test func sampleObservationsProjectWithRegisteredFramelets() async throws {
        let mission = try SampleMission("tiny-clean")
        #expect(mission.fragments.count == 144)
        let processor = try mission.processor(kernel: "reconstructed")
        let framelets = mission.framelets(observation: 5300)
        let grid = try processor.grid(for: framelets, scale: 20)
        let centre = try processor.centre(of: framelets)
        print("centre", centre.coordinates, "incidence", centre.incidence, "emission", centre.emission, "grid", grid.width, grid.height, grid.projection)
        let (mosaic, quality) = try await processor.mosaic(band: .pan, framelets: framelets, grid: grid) { mission.fragments[$0]! }
        print(quality)
        let values = mosaic.iof.filter { !$0.isNaN }.sorted()
        print("iof p5", values[values.count / 20], "median", values[values.count / 2], "p95", values[values.count * 19 / 20])
        #expect(quality.frameletPairsMeasured > 0)
    }
}
