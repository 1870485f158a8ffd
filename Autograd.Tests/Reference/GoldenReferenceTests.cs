using Autograd.Tests.Golden;

namespace Autograd.Tests.Reference;

/// <summary>
/// The hand-derived reference model (double) against PyTorch golden values (both sets): output, every
/// parameter gradient and the input gradient of loss = sum(output * G), the second batch's output from
/// the carried state and, in golden-ext, its gradients. Prints the worst relative error of each.
/// </summary>
public class GoldenReferenceTests
{
    private static IEnumerable<TestCaseData> Cases()
        => GoldenCase.CaseNames(GoldenCase.Base).Select(n => new TestCaseData(n, GoldenCase.Base).SetArgDisplayNames(n))
            .Concat(GoldenCase.CaseNames(GoldenCase.Extended).Select(n => new TestCaseData(n, GoldenCase.Extended).SetArgDisplayNames("ext " + n)));

    [TestCaseSource(nameof(Cases))]
    public void ReferenceModel_MatchesGolden(string name, string set)
    {
        var c = GoldenCase.Load(name, set);
        var model = c.BuildReferenceModel();
        int batch = c.Input.Shape[0], time = c.Input.Shape[1];

        var output = model.Forward(c.Input.Data, batch, time);
        double outErr = GoldenAssert.Close(output, c.Output, $"{name} output");

        var dInput = model.Backward(c.G.Data);
        double inGradErr = GoldenAssert.Close(dInput, c.InputGradient, $"{name} input gradient");

        double gradErr = 0;
        string worstGrad = "";
        foreach (var key in c.ParameterNames)
        {
            double e = GoldenAssert.Close(model.Grad(key), c.Gradients[key], $"{name} gradient {key}");
            if (e >= gradErr) { gradErr = e; worstGrad = key; }
        }

        // Second batch: state carried as the batch mean of the first pass's final state (a constant);
        // golden-ext differentiates it too, gradients zeroed between the passes.
        model.ZeroGrad();
        var second = model.Forward(c.SecondInput.Data, c.SecondInput.Shape[0], c.SecondInput.Shape[1]);
        double secondErr = GoldenAssert.Close(second, c.SecondOutput, $"{name} second output");
        string secondGrads = "";
        if (c.SecondG is { } g2)
        {
            double e2 = GoldenAssert.Close(model.Backward(g2.Data), c.SecondInputGradient!, $"{name} second input gradient");
            foreach (var key in c.ParameterNames)
                e2 = Math.Max(e2, GoldenAssert.Close(model.Grad(key), c.SecondGradients[key], $"{name} second-pass gradient {key}"));
            secondGrads = $", second-pass gradients {e2:E2}";
        }

        TestContext.Out.WriteLine(
            $"golden {set}/{name} [{string.Join("+", c.Layers.Select(l => l.Kind))}]: max relative error output {outErr:E2}, " +
            $"parameter gradients {gradErr:E2} ({worstGrad}), input gradient {inGradErr:E2}, second output {secondErr:E2}{secondGrads}");
    }

    [TestCase(GoldenCase.Base)]
    [TestCase(GoldenCase.Extended)]
    public void GoldenFolder_HoldsExactlyTheExpectedCases(string set)
    {
        var dir = GoldenCase.Folder(set);
        Assert.That(dir, Is.Not.Null, $"../shared/data/{set} beside the clone");
        var files = Directory.GetFiles(dir!).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        var expected = GoldenCase.ExpectedCases[set].Select(n => n + ".json").Append("README.md").Order(StringComparer.Ordinal).ToArray();
        Assert.That(files, Is.EqualTo(expected), "a case added or removed must be added to or removed from GoldenCase.ExpectedCases");
        // Each kind alone and in stacks, so that no kind can silently go untested.
        string[] kinds = set == GoldenCase.Base ? ["rnn", "gru", "lstm"] : ["rnn", "gru", "gru_ra", "lstm"];
        foreach (var kind in kinds)
        {
            Assert.That(GoldenCase.ExpectedCases[set], Does.Contain($"{kind}-seed1"), kind);
            Assert.That(GoldenCase.ExpectedCases[set].Count(n => n.Split('-').Contains(kind)), Is.GreaterThan(2), $"{kind} in a stack");
        }
    }

    [Test]
    public void GoldenAssert_ReportsTheWorstElementAndFailsOutsideTolerance()
    {
        double[] expected = [1.0, 0.0, -2.0, 1e-14];
        int[] shape = [2, 2];
        Assert.That(GoldenAssert.Close([1.0 + 5e-10, 5e-13, -2.0, 0.0], expected, shape, "ok"), Is.EqualTo(5e-10).Within(1e-12));
        var ex = Assert.Throws<AssertionException>(() => GoldenAssert.Close([1.0, 0.0, -2.0 * (1 + 3e-9), 1e-14], expected, shape, "bad"));
        Assert.That(ex!.Message, Does.Contain("[1, 0]").And.Contain("bad"));
        Assert.Throws<AssertionException>(() => GoldenAssert.Close([1.0, 2e-12, -2.0, 1e-14], expected, shape, "abs"));
        Assert.Throws<AssertionException>(() => GoldenAssert.Close([double.NaN, 0, -2.0, 1e-14], expected, shape, "nan"));
    }
}
