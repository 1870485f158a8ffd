using System.Runtime.InteropServices;
using Autograd.Tests.MpiWorker;

namespace Autograd.Tests.Distributed;

/// <summary>
/// <see cref="Autograd.Distributed.DataParallel{T}"/> on 2 MPI ranks (one <c>mpiexec -n 2</c> job runs
/// every case of <see cref="EquivalenceCase.All"/>) against the same training in this process on the
/// whole global batch without any communicator: per weight, relative error at most 1e-12 in double and
/// 1e-5 in float (plus 1e-8 absolute, as numpy.allclose), and the two ranks bitwise identical (compared
/// here, from the weights each rank wrote).
/// </summary>
[TestFixture]
[NonParallelizable]
public class DataParallelEquivalenceTests
{
    private string _dir = "";
    private CliResultSummary? _job;

    private sealed record CliResultSummary(int ExitCode, string Output);

    private static string WorkerDll => Path.Combine(AppContext.BaseDirectory, "Autograd.Tests.MpiWorker.dll");

    public static IEnumerable<TestCaseData> Cases()
        => EquivalenceCase.All.Where(c => c.PerturbAtStep is null).Select(c => new TestCaseData(c.Name).SetName($"TwoRanks_EqualOneProcess({c.Name})"));

    [OneTimeSetUp]
    public void RunJob()
    {
        if (MpiJob.MissingReason is not null) return; // each test reports the skip
        Assert.That(File.Exists(WorkerDll), Is.True, $"{WorkerDll} is built with the tests (project reference)");
        _dir = Path.Combine(Path.GetTempPath(), "autograd-dp-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        var result = MpiJob.Run(_dir, (2, WorkerDll, [_dir, "collectives", .. EquivalenceCase.All.Select(c => c.Name)]));
        _job = new CliResultSummary(result.ExitCode, result.ToString());
    }

    [OneTimeTearDown]
    public void CleanUp()
    {
        if (_dir.Length > 0 && Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private double[] Weights(string name, int rank)
    {
        string path = Path.Combine(_dir, $"{name}.rank{rank}.bin");
        Assert.That(File.Exists(path), Is.True, $"rank {rank} wrote {path}; the job: {_job}");
        return MemoryMarshal.Cast<byte, double>(File.ReadAllBytes(path)).ToArray();
    }

    [TestCaseSource(nameof(Cases))]
    public void TwoRanks_EqualOneProcess(string name)
    {
        MpiJob.RequireMpi();
        Assert.That(_job!.ExitCode, Is.Zero, _job.Output);
        var c = EquivalenceCase.All.Single(x => x.Name == name);
        double[] rank0 = Weights(name, 0), rank1 = Weights(name, 1);
        Assert.That(rank1, Is.EqualTo(rank0).AsCollection, "both ranks hold bitwise-identical weights");

        double[] reference = EquivalenceRun.Train(c, communicator: null, out _);
        Assert.That(rank0, Has.Length.EqualTo(reference.Length));
        // Double: relative per weight, 1e-12. Float: relative 1e-5 with numpy.allclose's absolute floor of 1e-8
        // (|a - b| <= 1e-5 |b| + 1e-8): weights that sit near zero (biases starting at 0) differ by ~1e-10 in
        // absolute terms, which is float rounding but more than 1e-5 of their size (up to 2.2e-5 seen).
        double relativeTolerance = c.Double ? 1e-12 : 1e-5, absoluteTolerance = c.Double ? 0 : 1e-8;
        double worst = 0, worstAbsolute = 0, worstExcess = double.NegativeInfinity;
        int worstIndex = 0, worstExcessIndex = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            double difference = Math.Abs(reference[i] - rank0[i]);
            double scale = Math.Max(Math.Abs(reference[i]), Math.Abs(rank0[i]));
            double relative = scale == 0 ? 0 : difference / scale;
            if (relative > worst) (worst, worstIndex) = (relative, i);
            worstAbsolute = Math.Max(worstAbsolute, difference);
            double excess = difference - (relativeTolerance * scale + absoluteTolerance);
            if (excess > worstExcess) (worstExcess, worstExcessIndex) = (excess, i);
        }
        TestContext.Out.WriteLine($"{name}: {reference.Length} weights (median |w| {reference.Select(Math.Abs).Order().ElementAt(reference.Length / 2):E2}), " +
            $"largest relative difference {worst:E2} (weight {worstIndex}: {rank0[worstIndex]:R} vs {reference[worstIndex]:R}), largest absolute {worstAbsolute:E2}, " +
            $"{File.ReadAllText(Path.Combine(_dir, $"{name}.rank0.messages"))} all-reduce call(s) per step");
        Assert.That(worstExcess, Is.LessThanOrEqualTo(0),
            $"weight {worstExcessIndex}: 2 ranks {rank0[worstExcessIndex]:R}, one process {reference[worstExcessIndex]:R} (relative {relativeTolerance}, absolute {absoluteTolerance})");
        // The distributed run changed the weights: it did train (and not, say, only rank 0's copy).
        Assert.That(reference.Zip(EquivalenceRun.Train(c with { Steps = 0 }, null, out _)).Count(p => p.First != p.Second), Is.GreaterThan(reference.Length / 2));
    }

    [Test]
    public void EveryCollective_OnEveryType_GivesTheExactResult()
    {
        MpiJob.RequireMpi();
        Assert.That(_job!.ExitCode, Is.Zero, _job.Output);
        foreach (int rank in new[] { 0, 1 })
        {
            string[] lines = File.ReadAllLines(Path.Combine(_dir, $"collectives.rank{rank}.txt"));
            Assert.That(lines, Has.Length.EqualTo(9));
            Assert.That(lines.Where(l => !l.StartsWith("ok", StringComparison.Ordinal)), Is.Empty, $"rank {rank}");
        }
    }

    [Test]
    public void SmallBuckets_SplitTheGradientIntoManyMessages()
    {
        MpiJob.RequireMpi();
        Assert.That(_job!.ExitCode, Is.Zero, _job.Output);
        int few = int.Parse(File.ReadAllText(Path.Combine(_dir, "double-sgd.rank0.messages")), System.Globalization.CultureInfo.InvariantCulture);
        int many = int.Parse(File.ReadAllText(Path.Combine(_dir, "double-momentum-uneven-buckets.rank0.messages")), System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(few, Is.EqualTo(1), "the default bucket holds this whole model");
        Assert.That(many, Is.GreaterThan(10), "200-byte buckets: many messages, parameters split across them");
    }

    [Test]
    public void OneUlpOnOneRank_IsCaughtByTheReplicaCheck_NamingTheParameter()
    {
        MpiJob.RequireMpi();
        Assert.That(_job!.ExitCode, Is.Zero, _job.Output);
        var c = EquivalenceCase.All.Single(x => x.PerturbAtStep is not null);
        foreach (int rank in new[] { 0, 1 })
        {
            string path = Path.Combine(_dir, $"{c.Name}.rank{rank}.error");
            Assert.That(File.Exists(path), Is.True, $"rank {rank} reports the divergence: {_job}");
            string message = File.ReadAllText(path);
            Assert.That(message, Does.Contain(EquivalenceCase.PerturbedParameter));
            // Nudged after step 3 (the 4th synchronization); the check before the 5th finds it.
            Assert.That(message, Does.Contain($"after {c.PerturbAtStep + 1} gradient synchronizations"));
        }
        Assert.That(File.Exists(Path.Combine(_dir, $"{c.Name}.rank0.bin")), Is.False);
    }
}
