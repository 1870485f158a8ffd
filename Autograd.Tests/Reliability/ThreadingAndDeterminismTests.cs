using Autograd.Nn;

namespace Autograd.Tests.Reliability;

/// <summary>Per-thread grad mode, concurrent training, and bitwise determinism under a seed.</summary>
public class ThreadingAndDeterminismTests
{
    /// <summary>A few Adam steps of a small GRU→LSTM char model on seeded random ids; returns the loss curve.</summary>
    internal static float[] Train(int seed, int steps = 12)
    {
        const int V = 11, B = 4, T = 9;
        var model = new RnnModel<float>(
            [new GruLayer<float>(16, 12, new() { Seed = seed, Carry = CarryMode.PerSequence }),
             new LstmLayer<float>(16, V, new() { Seed = seed + 1, Carry = CarryMode.PerSequence })], dropout: 0.1, seed: seed);
        model.Build(V);
        var opt = new Adam<float>(model.Parameters(), 0.01f);
        var rng = new Random(seed);
        var losses = new float[steps];
        for (int s = 0; s < steps; s++)
        {
            var ids = Enumerable.Range(0, B * (T + 1)).Select(_ => rng.Next(V)).ToArray();
            var input = new int[B * T];
            var target = new int[B * T];
            for (int b = 0; b < B; b++)
                for (int t = 0; t < T; t++)
                {
                    input[b * T + t] = ids[b * (T + 1) + t];
                    target[b * T + t] = ids[b * (T + 1) + t + 1];
                }
            opt.ZeroGrad();
            var loss = Losses.CrossEntropy(model.ForwardOneHot(input, B, T, V), target);
            loss.Backward();
            GradClip.ClipNorm(model.Parameters(), 1f);
            opt.Step();
            losses[s] = loss.Item();
        }
        return losses;
    }

    [Test]
    public void SameSeed_BitwiseIdenticalLossCurves()
    {
        var a = Train(3);
        var b = Train(3);
        Assert.That(b, Is.EqualTo(a));
        Assert.That(Train(4), Is.Not.EqualTo(a));
        Assert.That(a[^1], Is.LessThan(a[0]), "it learns something");
    }

    [Test]
    public void TwoModelsOnTwoThreads_MatchSequentialTraining()
    {
        var seqA = Train(5);
        var seqB = Train(6);
        float[]? parA = null, parB = null;
        var ta = new Thread(() => parA = Train(5));
        var tb = new Thread(() => parB = Train(6));
        ta.Start(); tb.Start();
        ta.Join(); tb.Join();
        Assert.That(parA, Is.EqualTo(seqA));
        Assert.That(parB, Is.EqualTo(seqB));
    }

    [Test]
    public void NoGrad_DoesNotReachAThreadAlreadyRunning()
    {
        var x = Tensor.Ones<double>(2);
        x.RequiresGrad = true;
        using var entered = new ManualResetEventSlim();
        bool otherRecords = false;
        var t = new Thread(() =>
        {
            entered.Wait();
            otherRecords = (x * 2.0).RequiresGrad;
        });
        t.Start(); // running before the scope exists: it must not see it
        using (Tensor.NoGrad())
        {
            entered.Set();
            t.Join();
            Assert.That((x * 2.0).RequiresGrad, Is.False, "inside NoGrad here");
        }
        Assert.That(otherRecords, Is.True, "the other thread still records");
        Assert.That((x * 2.0).RequiresGrad, Is.True, "recording again after the scope");
    }

    [Test]
    public async Task NoGrad_FlowsAcrossAwait_AndEndsCleanly()
    {
        var x = Tensor.Ones<double>(2);
        x.RequiresGrad = true;
        using (Tensor.NoGrad())
        {
            await Task.Yield();                       // resumes on a thread-pool thread
            await Task.Delay(1).ConfigureAwait(false);
            Assert.That(Tensor.IsGradEnabled, Is.False, "still inside the scope after await");
            Assert.That((x * 2.0).RequiresGrad, Is.False);
        }
        Assert.That(Tensor.IsGradEnabled, Is.True, "the scope ended where it was disposed");
        // The thread the scope started on is not stuck in no-grad, nor is any pool thread left negative.
        var others = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => Tensor.IsGradEnabled)));
        Assert.That(others, Is.All.True);
        var t = new Thread(() => Assert.That(Tensor.IsGradEnabled, Is.True));
        t.Start();
        t.Join();
    }

    public static IEnumerable<TestCaseData> Switches()
    {
        TestCaseData S(string name, Func<IDisposable> enter, Func<bool> on) => new TestCaseData(name, enter, on).SetArgDisplayNames(name);
        yield return S("NoGrad", Tensor.NoGrad, () => !Tensor.IsGradEnabled);
        yield return S("DetectAnomaly", Tensor.DetectAnomaly, () => Tensor.IsAnomalyDetectionEnabled);
        yield return S("Recycling", () => Tensor.Recycling(), () => PoolScope.Active);
    }

    [TestCaseSource(nameof(Switches))]
    public void Scopes_DisposedOutOfOrder_Throw_InsteadOfCorruptingState(string name, Func<IDisposable> enter, Func<bool> on)
    {
        var outer = enter();
        var other = name == "NoGrad" ? Tensor.DetectAnomaly() : Tensor.NoGrad(); // another switch's scope in between
        var inner = enter();
        var ex = Assert.Throws<InvalidOperationException>(() => outer.Dispose());
        Assert.That(ex!.Message, Does.Contain(name).And.Contain("out of order"));
        Assert.That(on(), Is.True, "a refused dispose changes nothing");
        inner.Dispose();
        other.Dispose();
        outer.Dispose();
        Assert.That(on(), Is.False);
        Assert.That((Tensor.IsGradEnabled, Tensor.IsAnomalyDetectionEnabled, PoolScope.Active), Is.EqualTo((true, false, false)));
    }

    [Test]
    public async Task Scope_EnteredInAnAsyncMethodThatReturned_RefusesDisposeOutside()
    {
        static async Task<IDisposable> EnterAndReturn()
        {
            await Task.Yield();
            return Tensor.NoGrad(); // set inside the callee's flow: the caller never sees it
        }
        var scope = await EnterAndReturn();
        Assert.That(Tensor.IsGradEnabled, Is.True);
        Assert.Throws<InvalidOperationException>(() => scope.Dispose());
        Assert.That(Tensor.IsGradEnabled, Is.True);
    }
}
