import Testing
import Evaluator

/// The 95% Wilson interval printed beside every accuracy, against published values.
@Suite struct AccuracyIntervalTests {
    @Test func wilsonIntervalsMatchTheTextbook() {
        // 10 of 10: 72.2% to 100% (Wilson 1927; Newcombe 1998, table I).
        let all = Accuracy.wilson(accuracy: 1, samples: 10)
        #expect(abs(all.lowerBound - 0.7225) < 5e-4 && all.upperBound == 1)
        // 50 of 100: 40.4% to 59.6%.
        let half = Accuracy.wilson(accuracy: 0.5, samples: 100)
        #expect(abs(half.lowerBound - 0.4038) < 5e-4 && abs(half.upperBound - 0.5962) < 5e-4)
        // 0 of 29: 0% to 11.7% (Newcombe 1998).
        let none = Accuracy.wilson(accuracy: 0, samples: 29)
        #expect(none.lowerBound == 0 && abs(none.upperBound - 0.1170) < 5e-4)
        // No samples: nothing is known.
        #expect(Accuracy.wilson(accuracy: 0.9, samples: 0) == 0...1)
    }

    @Test func theIntervalNarrowsWithSamplesAndAlwaysHoldsTheEstimate() {
        var previous = 1.0
        for n in [10, 30, 100, 300, 1000, 3000] {
            let w = Accuracy.wilson(accuracy: 0.93, samples: n)
            #expect(w.contains(0.93))
            #expect(w.upperBound - w.lowerBound < previous)
            previous = w.upperBound - w.lowerBound
        }
    }
}
