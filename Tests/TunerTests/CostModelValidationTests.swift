import Testing
@testable import Tuner

/// The rank statistics `tune bench --cost-model` prints.
@Suite struct CostModelValidationTests {
    @Test func onlyPairsMoreThanOnePercentApartCountForOrder() {
        // 100 and 100.5 are a near-tie: predicted the wrong way round, they count for nothing.
        let measured = [100, 100.5, 110, 130.0]
        let predicted = [101, 100.0, 112, 125.0]
        let pairs = CostModelValidation.orderedPairs(predicted, measured)
        #expect(pairs.total == 5 && pairs.ordered == 5)
        // Spearman sees the swapped near-tie.
        #expect(CostModelValidation.spearman(predicted, measured) < 1)
        // A pair far apart predicted the wrong way round counts against, and so does a predicted tie.
        #expect(CostModelValidation.orderedPairs([101, 100, 140, 125], measured) == (4, 5))
        #expect(CostModelValidation.orderedPairs([100, 100, 100, 100], [1, 2, 3, 4]) == (0, 6))
        #expect(CostModelValidation.orderedPairs([], []) == (0, 0))
    }
}
