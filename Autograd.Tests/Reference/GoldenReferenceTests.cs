using Autograd.Tests.Golden;

namespace Autograd.Tests.Reference;

/// <summary>
/// The hand-derived reference model (double) against PyTorch golden values: output, every parameter
/// gradient and the input gradient of loss = sum(output * G), and the second batch's output from the
/// carried state. Prints the worst relative error of each so it can be quoted.
/// </summary>
public class GoldenReferenceTests
{
    private static IEnumerable<string> Cases() => GoldenCase.CaseNames();

    [TestCaseSource(nameof(Cases))]
    public void ReferenceModel_MatchesGolden(string name)
    {
        var c = GoldenCase.Load(name);
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

        // Second batch: no gradients, state carried as the batch mean of the first pass's final state.
        var second = model.Forward(c.SecondInput.Data, c.SecondInput.Shape[0], c.SecondInput.Shape[1]);
        double secondErr = GoldenAssert.Close(second, c.SecondOutput, $"{name} second output");

        TestContext.Out.WriteLine(
            $"golden {name} [{string.Join("+", c.Layers.Select(l => l.Kind))}]: max relative error output {outErr:E2}, " +
            $"parameter gradients {gradErr:E2} ({worstGrad}), input gradient {inGradErr:E2}, second output {secondErr:E2}");
    }

    [Test]
    public void GoldenFolder_HasTheDocumentedCases()
    {
        var names = GoldenCase.CaseNames().ToArray();
        if (names is [GoldenCase.MissingPlaceholder]) GoldenCase.Load(names[0]); // ignores the test
        // One case of each kind alone, and stacks mixing them: otherwise a kind could silently go untested.
        Assert.That(names, Has.Some.StartsWith("rnn-").And.Some.StartsWith("gru-seed").And.Some.StartsWith("lstm-seed"));
        Assert.That(names, Has.Some.Contains("-rnn-").Or.Some.StartsWith("gru-lstm"));
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
