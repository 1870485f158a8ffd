using CsCheck;

namespace Autograd.Tests.Reliability;

/// <summary>
/// Issue 13, class 8, as a property: random nestings of every scoped switch (<c>NoGrad</c>, <c>DetectAnomaly</c>,
/// <c>Recycling</c>) with random awaits between entering, checking and leaving (yield, delays with and without
/// the captured context, hops through child tasks and threads), many running at once. Inside each scope, after
/// any await and in any child, the switches are exactly those of the enclosing scopes; afterwards none is on,
/// in the flow, on fresh threads or on pool threads.
/// </summary>
public class AsyncScopePropertyTests
{
    private const ulong Seed = 20261304;

    public enum Switch { NoGrad, DetectAnomaly, Recycling }

    public enum Hop { None, Yield, Delay, DelayAnyContext, ChildTask, ChildThread }

    public sealed record Level(Switch Switch, Hop Before, Hop After)
    {
        public override string ToString() => $"{Switch}({Before}/{After})";
    }

    private static readonly Gen<Level[]> Program =
        Gen.Enum<Switch>().Select(Gen.Enum<Hop>(), Gen.Enum<Hop>(), (s, a, b) => new Level(s, a, b)).Array[1, 4];

    private static IDisposable Enter(Switch s) => s switch
    {
        Switch.NoGrad => Tensor.NoGrad(),
        Switch.DetectAnomaly => Tensor.DetectAnomaly(),
        _ => Tensor.Recycling(),
    };

    /// <summary>The switches as this flow sees them, and as an op sees them (a recorded graph or not).</summary>
    private static void Check(IReadOnlyList<Level> open, string where)
    {
        bool noGrad = open.Any(l => l.Switch == Switch.NoGrad);
        bool anomaly = open.Any(l => l.Switch == Switch.DetectAnomaly);
        bool recycling = open.Any(l => l.Switch == Switch.Recycling);
        var x = Tensor.Ones<double>(2);
        x.RequiresGrad = true;
        Assert.That((Tensor.IsGradEnabled, Tensor.IsAnomalyDetectionEnabled, PoolScope.Active), Is.EqualTo((!noGrad, anomaly, recycling)),
            $"{where} in [{string.Join(", ", open)}] (grad, anomaly, recycling)");
        Assert.That((x * 2.0).RequiresGrad, Is.EqualTo(!noGrad), where);
    }

    private static async Task Hopping(Hop hop, IReadOnlyList<Level> open, string where)
    {
        switch (hop)
        {
            case Hop.Yield: await Task.Yield(); break;
            case Hop.Delay: await Task.Delay(1); break;
            case Hop.DelayAnyContext: await Task.Delay(1).ConfigureAwait(false); break;
            case Hop.ChildTask: await Task.Run(() => Check(open, where + ", child task")); break;
            case Hop.ChildThread:
                Exception? failure = null;
                var t = new Thread(() => { try { Check(open, where + ", child thread"); } catch (Exception e) { failure = e; } });
                t.Start();
                t.Join();
                if (failure is not null) throw failure;
                break;
        }
        Check(open, where);
    }

    private static async Task Run(Level[] program, int depth = 0)
    {
        var outer = program[..depth];
        if (depth == program.Length) return;
        var level = program[depth];
        var open = program[..(depth + 1)];
        using (Enter(level.Switch))
        {
            await Hopping(level.Before, open, $"level {depth} after entering");
            await Run(program, depth + 1);
            await Hopping(level.After, open, $"level {depth} before leaving");
        }
        Check(outer, $"level {depth} after leaving");
    }

    [Test]
    public async Task RandomNestedScopesWithAwaits_SeeExactlyTheirSwitches()
    {
        var pcg = new PCG(1, Seed);
        var programs = new List<(ulong State, Level[] Program)>();
        for (int i = 0; i < 120; i++)
        {
            ulong state = pcg.Seed;
            programs.Add((state, Program.Generate(pcg, null!, out Size _)));
        }
        // Eight at a time, each on the pool, so flows interleave on shared threads.
        foreach (var batch in programs.Chunk(8))
        {
            var runs = batch.Select(p => (p, Task.Run(() => Run(p.Program)))).ToArray();
            foreach (var (p, run) in runs)
            {
                try
                {
                    await run;
                }
                catch (Exception first) when (first is AssertionException)
                {
                    // Shrink from this case's seed: CsCheck reports the smallest program that still fails.
                    await Program.SampleAsync(prog => Run(prog), seed: pcg.ToString(p.State), iter: 200, threads: 1, print: prog => string.Join(", ", prog.AsEnumerable()));
                    throw;
                }
            }
        }
        Check([], "test body afterwards");
        var pool = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(() => (Tensor.IsGradEnabled, Tensor.IsAnomalyDetectionEnabled, PoolScope.Active))));
        Assert.That(pool, Is.All.EqualTo((true, false, false)), "no pool thread is left inside a scope");
        var fresh = new Thread(() => Check([], "fresh thread"));
        fresh.Start();
        fresh.Join();
    }
}
