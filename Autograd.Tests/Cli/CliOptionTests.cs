using System.Globalization;
using System.Text;
using Autograd.Nn.Serialization;
using Microsoft.ML.OnnxRuntime;

namespace Autograd.Tests.Cli;

/// <summary>
/// Every option of every command is used at least once and its effect is checked (the end-to-end
/// tests cover the defaults, resume and bad input; the export tests the default export).
/// </summary>
[TestFixture]
[NonParallelizable]
public class CliOptionTests
{
    private string _dir = "";
    private string _corpus = "";

    private CliResult Cli(params string[] args) => CliRunner.Run(_dir, args);

    private static string Inv(double v) => v.ToString(CultureInfo.InvariantCulture);

    [OneTimeSetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "autograd-cli-options-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        _corpus = Path.Combine(_dir, "corpus.txt");
        var sb = new StringBuilder();
        for (int i = 0; i < 400; i++) sb.Append(i % 2 == 0 ? "KING:\nWhat say you?\n\n" : "QUEEN:\nNothing, my lord.\n\n");
        File.WriteAllText(_corpus, sb.ToString(), new UTF8Encoding(false));
    }

    [OneTimeTearDown]
    public void TearDown()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Test]
    public void Train_EveryModelAndTrainingOption_ReachesTheCheckpoint()
    {
        string run = Path.Combine(_dir, "all-options");
        var r = Cli("train", "--data", _corpus, "--cell", "rnn", "--hidden", "12", "--layers", "2", "--seq-len", "10", "--batch", "3",
            "--minutes", "0.05", "--lr", "0.05", "--optimizer", "momentum", "--momentum", "0.8", "--clip", "2", "--lr-schedule", "cosine",
            "--dropout", "0.2", "--seed", "4", "--eval-every", "5", "--eval-chars", "50", "--sample-length", "25", "--out", run);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        var meta = SafeTensorsFile.Load(Path.Combine(run, "last.safetensors")).Metadata;
        var expected = new Dictionary<string, string>
        {
            ["model.cell"] = "rnn", ["model.hidden_size"] = "12", ["model.layers"] = "2", ["model.dropout"] = "0.2",
            ["train.seq_len"] = "10", ["train.batch"] = "3", ["train.lr"] = "0.05", ["train.optimizer"] = "momentum",
            ["train.momentum"] = "0.8", ["train.clip"] = "2", ["train.schedule"] = "cosine", ["train.seed"] = "4",
        };
        foreach (var (key, value) in expected) Assert.That(meta[key], Is.EqualTo(value), key);
        long steps = long.Parse(meta["train.step"], CultureInfo.InvariantCulture);
        Assert.That(steps, Is.GreaterThan(0), "--minutes 0.05: a 3 s budget, some steps");
        Assert.That(long.Parse(meta["train.dropout_masks"], CultureInfo.InvariantCulture), Is.EqualTo(steps), "dropout between the two layers: one mask per step");
        Assert.That(double.Parse(meta["train.elapsed_s"], CultureInfo.InvariantCulture), Is.LessThan(60), "the time budget stopped the run");

        var rows = File.ReadAllLines(Path.Combine(run, "loss.csv")).Skip(1).Select(l => l.Split(',')).ToArray();
        Assert.That(rows, Has.Length.EqualTo(steps));
        var rates = rows.Select(c => double.Parse(c[^1], CultureInfo.InvariantCulture)).ToArray();
        Assert.That(rates[0], Is.EqualTo(0.05).Within(1e-9), "--lr is the peak");
        Assert.That(rates, Is.Ordered.Descending, "--lr-schedule cosine decays");
        var validated = rows.Where(c => c[3].Length > 0).Select(c => long.Parse(c[0], CultureInfo.InvariantCulture)).ToArray();
        Assert.That(validated.Where(s => s != steps), Is.All.Matches<long>(s => s % 5 == 0), "--eval-every 5");
        Assert.That(r.StdOut, Does.Contain("validation loss on the first 50 chars"), "--eval-chars 50, and the progress view says it is a subset");
        Assert.That(r.StdOut, Does.Contain("sample"));
    }

    [Test]
    public void Train_DefaultDropout_AppliesToStacksOnly_AndOneLayerRefusesAnExplicitRate()
    {
        string stacked = Path.Combine(_dir, "default-dropout");
        var r = Cli("train", "--data", _corpus, "--hidden", "8", "--steps", "2", "--sample-length", "0", "--out", stacked);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        var meta = SafeTensorsFile.Load(Path.Combine(stacked, "last.safetensors")).Metadata;
        Assert.That(meta["model.layers"], Is.EqualTo("2"));
        Assert.That(meta["model.dropout"], Is.EqualTo("0.3"));

        string single = Path.Combine(_dir, "one-layer");
        r = Cli("train", "--data", _corpus, "--hidden", "8", "--layers", "1", "--steps", "2", "--sample-length", "0", "--out", single);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(SafeTensorsFile.Load(Path.Combine(single, "last.safetensors")).Metadata["model.dropout"], Is.EqualTo("0"));

        r = Cli("train", "--data", _corpus, "--layers", "1", "--dropout", "0.2", "--steps", "2", "--out", Path.Combine(_dir, "refused"));
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
        Assert.That(r.StdErr, Does.Contain("--dropout 0.2 needs --layers 2 or more"));
    }

    [Test]
    public void Train_PlainSgdOptimizer_IsRecorded()
    {
        string run = Path.Combine(_dir, "sgd");
        var r = Cli("train", "--data", _corpus, "--hidden", "8", "--steps", "3", "--optimizer", "sgd", "--sample-length", "0", "--out", run);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        var file = SafeTensorsFile.Load(Path.Combine(run, "last.safetensors"));
        Assert.That(file.Metadata["train.optimizer"], Is.EqualTo("sgd"));
        Assert.That(file.Names.Where(n => n.StartsWith("optim.", StringComparison.Ordinal)), Is.EqualTo(new[] { "optim.step" }), "plain SGD keeps no moments");
    }

    [Test]
    public void Sample_TopKOne_IsGreedy()
    {
        string run = Path.Combine(_dir, "for-sampling");
        Assert.That(Cli("train", "--data", _corpus, "--hidden", "16", "--steps", "20", "--sample-length", "0", "--out", run).ExitCode, Is.EqualTo(0));
        string best = Path.Combine(run, "best.safetensors");
        var greedy = Cli("sample", "--checkpoint", best, "--length", "60", "--greedy", "--prime", "KING:");
        var topOne = Cli("sample", "--checkpoint", best, "--length", "60", "--top-k", "1", "--temperature", "1.5", "--seed", "3", "--prime", "KING:");
        Assert.That(greedy.ExitCode, Is.EqualTo(0), greedy.ToString());
        Assert.That(topOne.StdOut, Is.EqualTo(greedy.StdOut), "the single most likely character every time");
        var topThree = Cli("sample", "--checkpoint", best, "--length", "60", "--top-k", "3", "--temperature", "1.5", "--seed", "3", "--prime", "KING:");
        Assert.That(topThree.ExitCode, Is.EqualTo(0), topThree.ToString());
        Assert.That(topThree.StdOut, Does.StartWith("KING:"));
    }

    [Test]
    public void Export_FeaturesTimeFirstWithoutState_WritesThatGraph()
    {
        string run = Path.Combine(_dir, "for-export");
        Assert.That(Cli("train", "--data", _corpus, "--cell", "gru", "--hidden", "8", "--steps", "2", "--sample-length", "0", "--out", run).ExitCode, Is.EqualTo(0));
        string onnx = Path.Combine(_dir, "features.onnx");
        var r = Cli("export", "--checkpoint", Path.Combine(run, "last.safetensors"), "--out", onnx, "--input", "features", "--time-first", "--no-state");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        using var session = new InferenceSession(onnx);
        Assert.That(session.InputNames, Is.EqualTo(new[] { "features" }), "--input features, --no-state: no initial_h inputs");
        Assert.That(session.InputMetadata["features"].SymbolicDimensions.Take(2), Is.EqualTo(new[] { "time", "batch" }), "--time-first");
        var bad = Cli("export", "--checkpoint", Path.Combine(run, "last.safetensors"), "--out", onnx, "--input", "pixels");
        Assert.That(bad.ExitCode, Is.Not.EqualTo(0));
        Assert.That(bad.StdErr, Does.Contain("--input"));
    }

    [TestCase("rnn")]
    [TestCase("gru")]
    [TestCase("gru", "--gru-reset-after")]
    [TestCase("lstm")]
    public void GradCheck_PrintsEveryParameterInputAndState_AndPasses(string cell, params string[] extra)
    {
        var r = Cli(["gradcheck", "--cell", cell, .. extra, "--input-size", "2", "--hidden", "3", "--output-size", "2", "--batch", "2", "--time", "4", "--seed", "5"]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        var lines = r.StdOut.Split('\n');
        Assert.That(lines[0], Does.Contain("F 2, H 3, O 2").And.Contain("(1, 1) (1, 4) (2, 4)").And.Contain("seed 5"));
        string[] names = cell switch
        {
            "rnn" => ["W_f", "B_f"],
            "gru" => ["W_xr", "W_xu", "W_xh", "W_hr", "W_hu", "W_hh", "B_r", "B_u", "B_h"],
            _ => ["W_f", "W_i", "W_c", "W_o", "B_f", "B_i", "B_c", "B_o"],
        };
        string[] states = cell == "lstm" ? ["state h", "state c"] : ["state h"];
        foreach (var name in names.Concat(["W_v", "B_v", "input"]).Concat(states))
            Assert.That(lines.Count(l => l.StartsWith(name + " ", StringComparison.Ordinal)), Is.EqualTo(1), name);
        Assert.That(r.StdOut, Does.Contain("autodiff vs FD").And.Contain("autodiff vs reference").And.Contain("reference vs FD"));
        Assert.That(r.StdOut, Does.Not.Contain("FAIL"));
        Assert.That(lines.Last(l => l.Length > 0), Is.EqualTo("gradcheck: passed"));
        Assert.That(r.StdOut, Does.Contain(extra.Length > 0 ? "Gru (reset_after=true)" : $"gradcheck {char.ToUpperInvariant(cell[0])}{cell[1..]}"));
    }

    [Test]
    public void GradCheck_RefusesResetAfterForOtherCellsAndBadSizes()
    {
        var r = Cli("gradcheck", "--cell", "lstm", "--gru-reset-after");
        Assert.That(r.ExitCode, Is.Not.EqualTo(0));
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(r.StdErr, Does.Contain("--gru-reset-after"));
        var zero = Cli("gradcheck", "--hidden", "0");
        Assert.That(zero.ExitCode, Is.Not.EqualTo(0));
        Assert.That(zero.StdErr, Does.Contain("--hidden must be a positive integer"));
        Assert.That(Cli("gradcheck", "--help").StdOut, Does.Contain("--gru-reset-after").And.Contain("--time"));
    }
}
