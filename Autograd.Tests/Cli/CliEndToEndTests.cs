using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Autograd.Nn;
using Autograd.Nn.Serialization;
using Autograd.CharLm;

namespace Autograd.Tests.Cli;

/// <summary>
/// The <c>autograd</c> command run as a process on a small corpus: one tiny training run in
/// setup, then evaluation, sampling, resuming, help, and every kind of bad input.
/// </summary>
[TestFixture]
[NonParallelizable]
public partial class CliEndToEndTests
{
    private string _dir = "";
    private string _corpus = "";
    private string _run = "";
    private string _best = "";
    private CliResult _train = null!;

    private const int Steps = 30;

    /// <summary>A small play-like text with non-ASCII symbols (é, —, an emoji outside the BMP).</summary>
    private static string MakeCorpus()
    {
        string[] lines =
        [
            "ROMEO:\nBut soft, what light through yonder window breaks?\n\n",
            "JULIET:\nO Romeo, Romeo! wherefore art thou Romeo?\n\n",
            "NURSE:\nAnon, anon! \u2014 the caf\u00e9 is closed \U0001F319\n\n",
            "MERCUTIO:\nA plague o' both your houses!\n\n",
        ];
        var sb = new StringBuilder();
        for (int i = 0; i < 60; i++) sb.Append(lines[(i * 7 + i / 4) % lines.Length]);
        return sb.ToString();
    }

    private string PathIn(string name) => Path.Combine(_dir, name);

    private CliResult Cli(params string[] args) => CliRunner.Run(_dir, args);

    [OneTimeSetUp]
    public void TrainOnce()
    {
        Assert.That(File.Exists(CliRunner.CliDll), Is.True, $"{CliRunner.CliDll} is built with the tests (project reference)");
        _dir = Path.Combine(Path.GetTempPath(), "autograd-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        _corpus = PathIn("corpus.txt");
        File.WriteAllText(_corpus, MakeCorpus(), new UTF8Encoding(false));
        _run = PathIn("run");
        _best = Path.Combine(_run, "best.safetensors");
        _train = Cli("train", "--data", _corpus, "--cell", "gru", "--hidden", "16", "--seq-len", "16", "--batch", "4",
            "--steps", Steps.ToString(CultureInfo.InvariantCulture), "--eval-every", "10", "--lr", "0.01", "--lr-schedule", "constant",
            "--seed", "1", "--sample-length", "40", "--out", _run);

        File.WriteAllText(PathIn("empty.txt"), "");
        File.WriteAllBytes(PathIn("binary.bin"), [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0x3E, 0x00]);
        File.WriteAllText(PathIn("short.txt"), "hi there");
        File.WriteAllText(PathIn("unknown.txt"), "ROMEO:\nBut soft \u0416 light\n");
        if (File.Exists(_best))
        {
            var bytes = File.ReadAllBytes(_best);
            File.WriteAllBytes(PathIn("truncated.safetensors"), bytes[..(bytes.Length / 2)]);
            // Same length, so only the dtype check can catch it.
            string text = Encoding.Latin1.GetString(bytes);
            File.WriteAllBytes(PathIn("mutated.safetensors"), Encoding.Latin1.GetBytes(text.Replace("\"F32\"", "\"F99\"")));
            var weightsOnly = Checkpoint.Load(_best).Model;
            Checkpoint.Save(PathIn("weights-only.safetensors"), weightsOnly);
        }
        File.Copy(_corpus, PathIn("not-a-checkpoint.safetensors"));
        Directory.CreateDirectory(PathIn("folder"));
    }

    [OneTimeTearDown]
    public void CleanUp()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Test]
    public void TrainWritesCheckpointsLossCurveAndPlot()
    {
        Assert.That(_train.ExitCode, Is.EqualTo(0), _train.ToString());
        foreach (var file in new[] { "best.safetensors", "last.safetensors", "loss.csv", "loss.png" })
            Assert.That(File.Exists(Path.Combine(_run, file)), Is.True, file);

        var csv = File.ReadAllLines(Path.Combine(_run, "loss.csv"));
        Assert.That(csv[0], Is.EqualTo(LossCurve.Header));
        Assert.That(csv, Has.Length.EqualTo(Steps + 1));
        var withValidation = csv.Skip(1).Where(l => l.Split(',')[3].Length > 0).Select(l => l.Split(',')[0]);
        Assert.That(withValidation, Is.EqualTo(new[] { "10", "20", "30" }));

        var png = File.ReadAllBytes(Path.Combine(_run, "loss.png"));
        Assert.That(png[..8], Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "PNG signature");
        Assert.That(_train.StdOut, Does.Contain("sample"));

        var last = SafeTensorsFile.Load(Path.Combine(_run, "last.safetensors"));
        Assert.That(last.Metadata["train.step"], Is.EqualTo(Steps.ToString(CultureInfo.InvariantCulture)));
        Assert.That(last.Metadata["model.cell"], Is.EqualTo("gru"));
        Assert.That(last.Names, Does.Contain("layers.0.W_xr").And.Contain("optim.m.layers.0.W_xr"));
    }

    [GeneratedRegex(@"^loss: (\d+\.\d{4}) nats/char \((\d+\.\d{4}) bits/char\) over (\d+) chars$")]
    private static partial Regex EvalLine();

    // The corpus's validation split is shorter than --eval-chars' default: the periodic check reads all of it.
    [GeneratedRegex(@"validation loss on the whole split \([\d,]+ chars\) (\d+\.\d{4}) nats/char.*best, saved")]
    private static partial Regex BestLine();

    private static (double Nats, double Bits, long Chars) ParseEval(CliResult r)
    {
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        string lastLine = r.StdOut.TrimEnd('\n', '\r').Split('\n')[^1].TrimEnd('\r');
        var m = EvalLine().Match(lastLine);
        Assert.That(m.Success, Is.True, $"last line: '{lastLine}'");
        return (double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture),
            long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture));
    }

    [Test]
    public void EvalAfterReloadMatchesTheValidationLossMeasuredBeforeSaving()
    {
        Assert.That(_train.ExitCode, Is.EqualTo(0), _train.ToString());
        // The validation part of the corpus, as train split it (last 10% of its symbols).
        string text = File.ReadAllText(_corpus);
        var vocabulary = Vocabulary.FromText(text);
        string validation = vocabulary.Decode(TextCorpus.Split(vocabulary.Encode(text)).Validation);
        string validationFile = PathIn("validation.txt");
        File.WriteAllText(validationFile, validation, new UTF8Encoding(false));

        var bestLines = BestLine().Matches(_train.StdOut);
        Assert.That(bestLines, Is.Not.Empty, _train.StdOut);
        double inMemory = double.Parse(bestLines[^1].Groups[1].Value, CultureInfo.InvariantCulture);

        var (nats, bits, chars) = ParseEval(Cli("eval", "--checkpoint", _best, "--data", validationFile));
        Assert.That(nats, Is.EqualTo(inMemory), "same model before saving and after loading, same text");
        Assert.That(bits, Is.EqualTo(nats / Math.Log(2)).Within(1e-4));
        int symbols = validation.EnumerateRunes().Count();
        Assert.That(chars, Is.InRange(symbols - 32, symbols - 1));

        var again = ParseEval(Cli("eval", "--checkpoint", _best, "--data", validationFile));
        Assert.That(again.Nats, Is.EqualTo(nats));
    }

    [Test]
    public void SampleIsDeterministicUnderASeed()
    {
        string[] args = ["sample", "--checkpoint", _best, "--length", "120", "--seed", "7", "--temperature", "1", "--prime", "ROMEO:\n"];
        var a = Cli(args);
        var b = Cli(args);
        Assert.That(a.ExitCode, Is.EqualTo(0), a.ToString());
        Assert.That(a.StdErr, Is.Empty);
        Assert.That(b.StdOut, Is.EqualTo(a.StdOut));
        Assert.That(a.StdOut, Does.StartWith("ROMEO:\n"));
        string generated = a.StdOut["ROMEO:\n".Length..];
        if (generated.EndsWith('\n') && generated.EnumerateRunes().Count() == 121) generated = generated[..^1];
        Assert.That(generated.EnumerateRunes().Count(), Is.EqualTo(120));

        var other = Cli(["sample", "--checkpoint", _best, "--length", "120", "--seed", "8", "--temperature", "1", "--prime", "ROMEO:\n"]);
        Assert.That(other.StdOut, Is.Not.EqualTo(a.StdOut));

        var g1 = Cli("sample", "--checkpoint", _best, "--length", "50", "--greedy");
        var g2 = Cli("sample", "--checkpoint", _best, "--length", "50", "--greedy", "--seed", "99");
        Assert.That(g1.ExitCode, Is.EqualTo(0), g1.ToString());
        Assert.That(g2.StdOut, Is.EqualTo(g1.StdOut));
    }

    [Test]
    public void ResumeContinuesFromTheSavedStep()
    {
        Assert.That(_train.ExitCode, Is.EqualTo(0), _train.ToString());
        string run2 = PathIn("run2");
        var r = Cli("train", "--data", _corpus, "--resume", Path.Combine(_run, "last.safetensors"), "--steps", "5",
            "--eval-every", "5", "--sample-length", "0", "--out", run2);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.StdOut, Does.Contain("from step 30 with optimizer state"));
        var steps = File.ReadAllLines(Path.Combine(run2, "loss.csv")).Skip(1).Select(l => int.Parse(l.Split(',')[0], CultureInfo.InvariantCulture));
        Assert.That(steps, Is.EqualTo(new[] { 31, 32, 33, 34, 35 }));
        var last = SafeTensorsFile.Load(Path.Combine(run2, "last.safetensors"));
        Assert.That(last.Metadata["train.step"], Is.EqualTo("35"));
        // Settings not given again come from the checkpoint.
        Assert.That(last.Metadata["train.batch"], Is.EqualTo("4"));
        Assert.That(last.Metadata["train.seq_len"], Is.EqualTo("16"));
        Assert.That(last.Metadata["model.hidden_size"], Is.EqualTo("16"));
    }

    [Test]
    public void ResumeThatNeverBeatsTheBest_ReportsTheLastModelAndNoBestFile()
    {
        Assert.That(_train.ExitCode, Is.EqualTo(0), _train.ToString());
        string run3 = PathIn("run3");
        // Adam at lr 100 wrecks the weights in 5 steps: no validation can beat the checkpoint's best.
        var r = Cli("train", "--data", _corpus, "--resume", Path.Combine(_run, "last.safetensors"), "--steps", "5", "--lr", "100",
            "--eval-every", "5", "--sample-length", "0", "--out", run3);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(File.Exists(Path.Combine(run3, "best.safetensors")), Is.False);
        Assert.That(r.StdOut, Does.Contain("validation loss (last model)").And.Contain("none written"));
        Assert.That(r.StdOut, Does.Not.Contain("best validation loss"));
    }

    [TestCase("--help")]
    [TestCase("train", "--help")]
    [TestCase("sample", "--help")]
    [TestCase("eval", "--help")]
    public void HelpWorksEverywhere(params string[] args)
    {
        var r = Cli(args);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.StdOut, Does.Contain("Usage:").And.Contain("autograd"));
    }

    private static IEnumerable<TestCaseData> BadInputs()
    {
        TestCaseData Case(string name, string fragment, params string[] args) => new TestCaseData(args, fragment).SetName($"Refuses({name})");
        yield return Case("missing corpus", "no such file", "train", "--data", "{dir}/missing.txt");
        yield return Case("empty corpus", "empty", "train", "--data", "{dir}/empty.txt");
        yield return Case("binary corpus", "binary", "train", "--data", "{dir}/binary.bin");
        yield return Case("too-short corpus", "too short", "train", "--data", "{dir}/short.txt");
        yield return Case("corpus is a folder", "directory", "train", "--data", "{dir}/folder");
        yield return Case("zero hidden", "--hidden must be a positive integer", "train", "--hidden", "0");
        yield return Case("negative layers", "--layers must be a positive integer", "train", "--layers", "-2");
        yield return Case("zero batch", "--batch must be a positive integer", "train", "--batch", "0");
        yield return Case("negative seq-len", "--seq-len must be a positive integer", "train", "--seq-len", "-1");
        yield return Case("zero steps", "--steps must be a positive integer", "train", "--steps", "0");
        yield return Case("zero minutes", "--minutes must be a positive number", "train", "--minutes", "0");
        yield return Case("zero lr", "--lr must be", "train", "--lr", "0");
        yield return Case("negative clip", "--clip must be", "train", "--clip", "-1");
        yield return Case("steps and minutes", "either --steps or --minutes", "train", "--steps", "5", "--minutes", "1");
        yield return Case("unknown cell", "--cell", "train", "--cell", "transformer");
        yield return Case("non-numeric hidden", "--hidden", "train", "--hidden", "abc");
        yield return Case("unknown option", "--bogus", "train", "--bogus");
        yield return Case("resume missing", "missing.safetensors", "train", "--data", "{dir}/corpus.txt", "--resume", "{dir}/missing.safetensors");
        yield return Case("resume truncated", "invalid safetensors file", "train", "--data", "{dir}/corpus.txt", "--resume", "{dir}/truncated.safetensors");
        yield return Case("resume weights only", "no training state", "train", "--data", "{dir}/corpus.txt", "--resume", "{dir}/weights-only.safetensors");
        yield return Case("resume conflicting hidden", "conflicts", "train", "--data", "{dir}/corpus.txt", "--resume", "{dir}/run/last.safetensors", "--hidden", "32");
        yield return Case("zero temperature", "--temperature must be", "sample", "--checkpoint", "{dir}/run/best.safetensors", "--temperature", "0");
        yield return Case("negative temperature", "--temperature must be", "sample", "--checkpoint", "{dir}/run/best.safetensors", "--temperature", "-1");
        yield return Case("zero length", "--length must be a positive integer", "sample", "--checkpoint", "{dir}/run/best.safetensors", "--length", "0");
        yield return Case("negative top-k", "--top-k", "sample", "--checkpoint", "{dir}/run/best.safetensors", "--top-k", "-1");
        yield return Case("no checkpoint", "--checkpoint", "sample");
        yield return Case("missing checkpoint", "missing.safetensors", "sample", "--checkpoint", "{dir}/missing.safetensors");
        yield return Case("truncated checkpoint", "invalid safetensors file", "sample", "--checkpoint", "{dir}/truncated.safetensors");
        yield return Case("mutated checkpoint", "unknown dtype 'F99'", "sample", "--checkpoint", "{dir}/mutated.safetensors");
        yield return Case("text as checkpoint", "invalid safetensors file", "sample", "--checkpoint", "{dir}/not-a-checkpoint.safetensors");
        yield return Case("folder as checkpoint", "directory", "sample", "--checkpoint", "{dir}/folder");
        yield return Case("prime outside vocabulary", "not in the vocabulary", "sample", "--checkpoint", "{dir}/run/best.safetensors", "--prime", "\u0416");
        yield return Case("eval symbol outside vocabulary", "U+0416", "eval", "--checkpoint", "{dir}/run/best.safetensors", "--data", "{dir}/unknown.txt");
        yield return Case("eval empty data", "empty", "eval", "--checkpoint", "{dir}/run/best.safetensors", "--data", "{dir}/empty.txt");
        yield return Case("eval corrupt checkpoint", "invalid safetensors file", "eval", "--checkpoint", "{dir}/truncated.safetensors", "--data", "{dir}/corpus.txt");
        yield return Case("no command", "command", []);
    }

    [TestCaseSource(nameof(BadInputs))]
    public void BadInputIsRefusedWithOneLine(string[] args, string fragment)
    {
        var r = Cli(args.Select(a => a.Replace("{dir}", _dir)).ToArray());
        Assert.That(r.ExitCode, Is.Not.EqualTo(0), r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1), r.ToString());
        Assert.That(r.StdErr, Does.StartWith("autograd: error: "));
        Assert.That(r.StdErr, Does.Contain(fragment));
        Assert.That(r.StdErr + r.StdOut, Does.Not.Contain("   at "), "no stack trace");
    }
}
