using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Autograd.CharLm;
using Autograd.Nn.Serialization;
using Autograd.Tests.Cli;

namespace Autograd.Tests.Distributed;

/// <summary>
/// <c>mpiexec -n 2 autograd train --distributed</c> on a small corpus: the checkpoint matches one
/// process on the same global batch and <c>eval</c> reads it; resuming is exact; mismatched ranks, a
/// missing MPI library and a forgotten <c>--distributed</c> each give one line.
/// </summary>
[TestFixture]
[NonParallelizable]
public partial class DistributedCliTests
{
    private string _dir = "";
    private string _corpus = "";

    /// <summary>Shared by every run here: a small LSTM (no dropout: ranks draw their own masks), 4 rows × 12 chars per step, the replicas checked every step.</summary>
    private string[] Common(string output, params string[] more) =>
    [
        "train", "--data", _corpus, "--cell", "lstm", "--hidden", "24", "--dropout", "0", "--seq-len", "12", "--batch", "4",
        "--eval-every", "3", "--eval-chars", "300", "--sample-length", "0", "--seed", "3", "--lr-schedule", "constant",
        "--out", Path.Combine(_dir, output), .. more,
    ];

    private static string[] Distributed(string[] args) => [.. args, "--distributed", "--check-replicas", "1"];

    internal static string MakeCorpus()
    {
        var sb = new StringBuilder();
        string[] lines = ["KING:\nWhat say you, my lord?\n\n", "QUEEN:\nNothing, my lord; nothing.\n\n", "ROMEO:\nBut soft, what light breaks?\n\n"];
        for (int i = 0; i < 150; i++) sb.Append(lines[(i * 5 + i / 3) % lines.Length]);
        return sb.ToString();
    }

    [OneTimeSetUp]
    public void MakeFiles()
    {
        _dir = Path.Combine(Path.GetTempPath(), "autograd-mpi-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        _corpus = Path.Combine(_dir, "corpus.txt");
        File.WriteAllText(_corpus, MakeCorpus(), new UTF8Encoding(false));
    }

    [OneTimeTearDown]
    public void CleanUp() => Directory.Delete(_dir, recursive: true);

    private static SafeTensorsFile Load(string path)
    {
        Assert.That(File.Exists(path), Is.True, $"{path} was written");
        return SafeTensorsFile.Load(path);
    }

    [Test]
    public void TwoRanks_WriteACheckpointThatEvalReads_AndThatMatchesOneProcess()
    {
        MpiJob.RequireMpi();
        var sgd = new[] { "--steps", "6", "--optimizer", "sgd", "--lr", "0.3" };
        var single = CliRunner.Run(_dir, Common("single", sgd));
        Assert.That(single.ExitCode, Is.Zero, single.ToString());
        var dist = MpiJob.RunCli(_dir, 2, Distributed(Common("dist", sgd)));
        Assert.That(dist.ExitCode, Is.Zero, dist.ToString());
        Assert.That(dist.StdErr.Trim(), Is.Empty, dist.ToString());
        // Rank 0 alone reports and writes.
        Assert.That(Regex.Count(dist.StdOut, "best checkpoint"), Is.EqualTo(1), dist.StdOut);
        Assert.That(dist.StdOut, Does.Contain("2 rank(s), 2 rows each"));
        foreach (string file in new[] { "best.safetensors", "last.safetensors", "loss.csv", "loss.png" })
            Assert.That(File.Exists(Path.Combine(_dir, "dist", file)), Is.True, file);

        // Same global batch, so the same training up to float rounding: each rank sums its half of the batch's
        // gradients before the all-reduce, one process sums all of it, and six float32 SGD steps at lr 0.3 carry
        // those last-bit differences on. A sum's rounding error scales with its terms, not with its result, so the
        // bound is relative to each tensor's largest magnitude (numpy.allclose's 1e-5): an element that is small by
        // cancellation (a carried cell state of 0.004 in a tensor reaching 0.4) may differ by 1e-7. A missing or
        // wrongly scaled all-reduce would be off by whole gradient contributions (lr 0.3 times O(1e-2) gradients).
        var a = Load(Path.Combine(_dir, "single", "last.safetensors"));
        var b = Load(Path.Combine(_dir, "dist", "last.safetensors"));
        Assert.That(b.Names, Is.EquivalentTo(a.Names));
        double worst = 0;
        foreach (string name in a.Names)
        {
            float[] x = a.GetTensor<float>(name).ToArray(), y = b.GetTensor<float>(name).ToArray();
            Assert.That(y, Has.Length.EqualTo(x.Length), name);
            double scale = x.Max(v => Math.Abs((double)v));
            for (int i = 0; i < x.Length; i++)
            {
                double difference = Math.Abs(x[i] - (double)y[i]);
                Assert.That(difference, Is.LessThanOrEqualTo(1e-5 * scale + 1e-8), $"{name}[{i}]: one process {x[i]:R}, 2 ranks {y[i]:R} (largest |value| {scale:R})");
                worst = Math.Max(worst, difference / Math.Max(scale, 1e-30));
            }
        }
        TestContext.Out.WriteLine($"largest difference relative to its tensor's largest magnitude over {a.Names.Count} tensors (weights, carried state): {worst:E2}");

        var eval = CliRunner.Run(_dir, "eval", "--checkpoint", Path.Combine(_dir, "dist", "last.safetensors"), "--data", _corpus);
        Assert.That(eval.ExitCode, Is.Zero, eval.ToString());
        var match = Regex.Match(eval.StdOut, @"loss: ([0-9.]+) nats/char");
        Assert.That(match.Success, Is.True, eval.StdOut);
        double distLoss = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        var singleModel = Checkpoint.Load(Path.Combine(_dir, "single", "last.safetensors")).Model;
        double singleLoss = Evaluator.Evaluate(singleModel, singleModel.Vocabulary.Encode(MakeCorpus())).NatsPerSymbol;
        Assert.That(distLoss, Is.EqualTo(singleLoss).Within(1e-3), "eval prints four decimals");
    }

    [Test]
    public void Resume_OnTwoRanks_IsBitwiseOneRun_AndOnOneProcessContinuesTheSameStreams()
    {
        MpiJob.RequireMpi();
        string[] adam = ["--optimizer", "adam", "--lr", "0.01"];
        var whole = MpiJob.RunCli(_dir, 2, Distributed(Common("whole", [.. adam, "--steps", "8"])));
        Assert.That(whole.ExitCode, Is.Zero, whole.ToString());
        var half = MpiJob.RunCli(_dir, 2, Distributed(Common("half", [.. adam, "--steps", "4"])));
        Assert.That(half.ExitCode, Is.Zero, half.ToString());
        string halfway = Path.Combine(_dir, "half", "last.safetensors");
        var resumed = MpiJob.RunCli(_dir, 2, Distributed(Common("resumed", "--steps", "4", "--resume", halfway)));
        Assert.That(resumed.ExitCode, Is.Zero, resumed.ToString());

        var expected = Load(Path.Combine(_dir, "whole", "last.safetensors"));
        var actual = Load(Path.Combine(_dir, "resumed", "last.safetensors"));
        Assert.That(actual.Names, Is.EquivalentTo(expected.Names));
        Assert.That(expected.Names, Has.Some.StartsWith("carry."), "the carried state is in the checkpoint");
        foreach (string name in expected.Names)
            Assert.That(actual.GetBytes(name).ToArray(), Is.EqualTo(expected.GetBytes(name).ToArray()), $"{name} is bitwise the same");

        // The carried state was gathered in global row order: one process resuming the 2-rank checkpoint
        // continues every stream where it stopped, so it ends where the 2-rank run did (up to rounding).
        var alone = CliRunner.Run(_dir, Common("alone", "--steps", "4", "--resume", halfway));
        Assert.That(alone.ExitCode, Is.Zero, alone.ToString());
        var single = Load(Path.Combine(_dir, "alone", "last.safetensors"));
        foreach (string name in expected.Names.Where(n => !n.StartsWith("optim.", StringComparison.Ordinal)))
        {
            float[] x = expected.GetTensor<float>(name).ToArray(), y = single.GetTensor<float>(name).ToArray();
            for (int i = 0; i < x.Length; i++)
                Assert.That(Math.Abs(x[i] - (double)y[i]), Is.LessThanOrEqualTo(1e-4 * Math.Abs(x[i]) + 1e-6), $"{name}[{i}]");
        }
    }

    [TestCase("--layers", "1", "2", "model")]
    [TestCase("--lr", "0.01", "0.02", "training options")]
    public void RanksStartedDifferently_OneLineNamingWhatDiffers(string option, string first, string second, string what)
    {
        MpiJob.RequireMpi();
        string[] Args(string value) => Distributed([.. Common("mismatch-" + what.Replace(' ', '-'), "--steps", "3"), option, value]);
        var clock = Stopwatch.StartNew();
        var result = MpiJob.Run(_dir, (1, CliRunner.CliDll, Args(first)), (1, CliRunner.CliDll, Args(second)));
        Assert.That(result.ExitCode, Is.Not.Zero, result.ToString());
        Assert.That(result.ErrorLines, Has.Length.EqualTo(1), result.ToString());
        Assert.That(result.ErrorLines[0], Does.StartWith("autograd: error: ").And.Contain($"differ in {what}"));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(60)), "detected at the start, not by a timeout");
        Assert.That(File.Exists(Path.Combine(_dir, "mismatch-" + what.Replace(' ', '-'), "last.safetensors")), Is.False);
    }

    [Test]
    public void BadArgumentOnOneRank_EndsTheWholeJob()
    {
        MpiJob.RequireMpi();
        // Rank 1 fails before MPI_Init; without the abort, rank 0 would wait in MPI_Init until MPIEXEC_TIMEOUT.
        string[] good = Distributed(Common("badarg", "--steps", "3"));
        var clock = Stopwatch.StartNew();
        var result = MpiJob.Run(_dir, (1, CliRunner.CliDll, good), (1, CliRunner.CliDll, [.. good, "--layers", "-3"]));
        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.StdErr, Does.Contain("autograd: error: --layers must be a positive integer, got -3."));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(MpiJob.TimeoutSeconds / 2)), "ended by the abort, not by MPIEXEC_TIMEOUT");
    }

    [Test]
    public void UnderMpiexecWithoutDistributed_OneUsageLine()
    {
        MpiJob.RequireMpi();
        var result = MpiJob.RunCli(_dir, 2, Common("forgot", "--steps", "2"));
        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.ErrorLines, Has.Length.EqualTo(1), result.ToString());
        Assert.That(result.ErrorLines[0], Does.Contain("--distributed"));
        Assert.That(Directory.Exists(Path.Combine(_dir, "forgot")), Is.False);
    }

    [Test]
    public void MissingMpiLibrary_OneLine_NoStackTrace()
    {
        // Needs no MPI: the library is pointed at a file that does not exist.
        var result = CliRunner.Run(_dir, new Dictionary<string, string> { ["AUTOGRAD_MPI_LIBRARY"] = Path.Combine(_dir, "no-such-dir", "libmpich.so.12") },
            Distributed(Common("nolib", "--steps", "2")));
        Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString());
        Assert.That(result.ErrorLines, Has.Length.EqualTo(1), result.ToString());
        Assert.That(result.ErrorLines[0], Does.StartWith("autograd: error: --distributed needs MPICH: apt-get install mpich"));
        Assert.That(result.StdOut.Trim(), Is.Empty);
    }

    [Test]
    public void CheckReplicasWithoutDistributed_IsAUsageError()
    {
        var result = CliRunner.Run(_dir, [.. Common("noreplicas", "--steps", "2"), "--check-replicas", "5"]);
        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(result.ErrorLines[0], Does.Contain("--check-replicas needs --distributed"));
    }
}
