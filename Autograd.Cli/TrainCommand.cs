using System.CommandLine;
using System.Globalization;
using Autograd.Nn;
using Autograd.CharLm;
using Autograd.Distributed;
using Spectre.Console;

namespace Autograd.Cli;

/// <summary><c>autograd train</c>: trains a character-level model and writes checkpoints, a loss curve and a plot.</summary>
internal static partial class TrainCommand
{
    // Defaults sized for a 10-minute run on the 2-core dev machine (2026-12-02, 9-minute runs, best
    // validation loss over the whole split): 2 x 384 LSTM, batch 64 x 50, dropout 0.3 reached 1.472
    // (2 x 512: 1.484, too few steps at ~8k chars/s; 2 x 256 with dropout 0.3: 1.490, 0.1: 1.502, it
    // overfits; 1 x 384 at 16 x 100, the old default: 1.536). Halving the window from 100 to 50 at the
    // same batch doubles the updates at the same chars/s (4-minute runs: 1.534 -> 1.488; 30: 1.504).
    // The periodic checks read the whole validation split: its first 30k chars read ~0.06-0.08 lower
    // and picked a later, overfitted checkpoint as best. Adam at 3e-3 with cosine decay to 3e-4 over
    // the budget; 9 minutes leave room for start-up, the final validation and the sample.
    public const string DefaultCell = "lstm";
    public const int DefaultHidden = 384;
    public const int DefaultLayers = 2;
    public const int DefaultSeqLen = 50;
    public const int DefaultBatch = 64;
    public const double DefaultMinutes = 9;
    public const double DefaultLearningRate = 3e-3;
    public const int DefaultEvalEvery = 200;
    public const double DefaultClip = 5;
    public const double DefaultDropout = 0.3;

    /// <summary>The <c>train</c> subcommand with its options and action (registered by <see cref="CliApp"/>).</summary>
    public static Command Create()
    {
        var data = new Option<string?>("--data") { Description = "UTF-8 text file to train on (default: the embedded tiny Shakespeare, 1.1 MB).", HelpName = "FILE" };
        var cell = new Option<string>("--cell") { Description = "Recurrent cell.", DefaultValueFactory = _ => DefaultCell };
        cell.AcceptOnlyFromAmong("lstm", "gru", "rnn");
        var hidden = CliApp.PositiveInt("--hidden", "Hidden units per layer.", DefaultHidden);
        var layers = CliApp.PositiveInt("--layers", "Stacked recurrent layers.", DefaultLayers);
        var seqLen = CliApp.PositiveInt("--seq-len", "Time steps per batch (truncated back-propagation window).", DefaultSeqLen);
        var batch = CliApp.PositiveInt("--batch", "Sequences per batch.", DefaultBatch);
        var steps = new Option<long?>("--steps") { Description = "Stop after N optimizer steps (instead of a time budget).", HelpName = "N" };
        steps.Validators.Add(r => { if (CliApp.TryGetValue(r, out long? n) && n is long s && s <= 0) r.AddError($"--steps must be a positive integer, got {s}."); });
        var minutes = new Option<double?>("--minutes") { Description = $"Stop after M minutes of training (default {DefaultMinutes} when --steps is not given).", HelpName = "M" };
        minutes.Validators.Add(r => { if (CliApp.TryGetValue(r, out double? d) && d is double m && !(m > 0 && double.IsFinite(m))) r.AddError($"--minutes must be a positive number, got {m}."); });
        var lr = CliApp.BoundedDouble("--lr", "Peak learning rate.", DefaultLearningRate, 0, minInclusive: false);
        var optimizer = new Option<string>("--optimizer") { Description = "Update rule.", DefaultValueFactory = _ => "adam" };
        optimizer.AcceptOnlyFromAmong("sgd", "momentum", "adam");
        var momentum = CliApp.BoundedDouble("--momentum", "Momentum for --optimizer momentum.", 0.9, 0, minInclusive: true, max: 0.999);
        var clip = CliApp.BoundedDouble("--clip", "Clip the global gradient norm to this (0: off).", DefaultClip, 0, minInclusive: true);
        var schedule = new Option<string>("--lr-schedule") { Description = "Learning-rate schedule: cosine decays to 0.1 × --lr over the budget.", DefaultValueFactory = _ => "cosine" };
        schedule.AcceptOnlyFromAmong("cosine", "constant");
        var dropout = CliApp.BoundedDouble("--dropout", "Dropout between stacked layers while training (a one-layer model has none).", DefaultDropout, 0, minInclusive: true, max: 0.9);
        var seed = new Option<int>("--seed") { Description = "Seeds weight initialization and dropout.", DefaultValueFactory = _ => 0 };
        var evalEvery = CliApp.PositiveInt("--eval-every", "Validate every N steps (and at the end).", DefaultEvalEvery);
        var evalChars = new Option<int?>("--eval-chars") { Description = "Validation characters the periodic checks read from the start of the split (default: all; the final report always uses all).", HelpName = "N" };
        evalChars.Validators.Add(r => { if (CliApp.TryGetValue(r, out int? n) && n < 2) r.AddError($"--eval-chars must be at least 2, got {n}."); });
        var sampleLength = new Option<int>("--sample-length") { Description = "Characters of sample text printed at the end (0: none).", DefaultValueFactory = _ => 400 };
        sampleLength.Validators.Add(r => { if (CliApp.TryGetValue(r, out int n) && n < 0) r.AddError("--sample-length must not be negative."); });
        var output = new Option<string?>("--out") { Description = "Output folder (default: runs/<timestamp>/).", HelpName = "DIR" };
        var distributed = new Option<bool>("--distributed") { Description = "Data-parallel training on every rank of an MPI job: mpiexec -n N autograd train --distributed ... (MPICH). --batch is the global batch, split across the ranks; rank 0 reports and writes the files." };
        var checkReplicas = new Option<int>("--check-replicas") { Description = "With --distributed: every N steps verify that all ranks hold bitwise-identical weights (a debugging aid; 0: never).", DefaultValueFactory = _ => 0, HelpName = "N" };
        checkReplicas.Validators.Add(r => { if (CliApp.TryGetValue(r, out int n) && n < 0) r.AddError("--check-replicas must not be negative."); });
        var resume = new Option<string?>("--resume") { Description = "Continue training from a checkpoint written by train (model, optimizer state, step, data position). Model options come from the checkpoint; training options default to its values.", HelpName = "FILE" };

        var command = new Command("train", "Train a character-level language model. Writes best.safetensors (best validation loss), last.safetensors, loss.csv and loss.png to --out, and prints a sample.")
        {
            data, cell, hidden, layers, seqLen, batch, steps, minutes, lr, optimizer, momentum, clip, schedule, dropout, seed,
            evalEvery, evalChars, sampleLength, output, resume, distributed, checkReplicas,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(steps) is not null && parse.GetValue(minutes) is not null)
                throw new CliError("give either --steps or --minutes, not both.", ExitCodes.Usage);
            // Dropout acts between layers only (as torch.nn.LSTM's): the default applies to stacks, and an
            // explicit rate on one layer would be silently ignored, so it is refused.
            if (CliApp.Given(parse, dropout) && parse.GetValue(dropout) > 0 && parse.GetValue(layers) == 1)
                throw new CliError($"--dropout {parse.GetValue(dropout).ToString(CultureInfo.InvariantCulture)} needs --layers 2 or more: dropout acts between stacked layers.", ExitCodes.Usage);
            if (parse.GetValue(checkReplicas) > 0 && !parse.GetValue(distributed))
                throw new CliError("--check-replicas needs --distributed.", ExitCodes.Usage);
            var settings = new TrainSettings
            {
                DataPath = parse.GetValue(data),
                Model = new CharModelConfig(ParseCell(parse.GetValue(cell)!), parse.GetValue(hidden), parse.GetValue(layers),
                    parse.GetValue(layers) > 1 ? parse.GetValue(dropout) : 0),
                Training = new TrainingOptions
                {
                    SequenceLength = parse.GetValue(seqLen),
                    BatchSize = parse.GetValue(batch),
                    MaxSteps = parse.GetValue(steps),
                    TimeBudget = parse.GetValue(steps) is null ? TimeSpan.FromMinutes(parse.GetValue(minutes) ?? DefaultMinutes) : null,
                    LearningRate = parse.GetValue(lr),
                    Optimizer = Enum.Parse<OptimizerKind>(parse.GetValue(optimizer)!, ignoreCase: true),
                    Momentum = parse.GetValue(momentum),
                    ClipNorm = parse.GetValue(clip),
                    Schedule = Enum.Parse<LearningRateSchedule>(parse.GetValue(schedule)!, ignoreCase: true),
                    EvaluationInterval = parse.GetValue(evalEvery),
                    EvaluationSymbols = parse.GetValue(evalChars),
                    Seed = parse.GetValue(seed),
                },
                OutputDirectory = parse.GetValue(output),
                ResumePath = parse.GetValue(resume),
                SampleLength = parse.GetValue(sampleLength),
                Distributed = parse.GetValue(distributed),
                CheckReplicas = parse.GetValue(checkReplicas),
                GivenModelOptions = [.. new Option[] { cell, hidden, layers, dropout }.Where(o => CliApp.Given(parse, o)).Select(o => o.Name)],
                GivenTrainingOptions = [.. new Option[] { seqLen, batch, lr, optimizer, momentum, clip, schedule, seed }.Where(o => CliApp.Given(parse, o)).Select(o => o.Name)],
            };
            return Train(settings);
        });
        return command;
    }

    private static CellKind ParseCell(string text)
        => CharModelConfig.TryParseCell(text, out var cell) ? cell : throw new CliError($"unknown cell '{text}'.", ExitCodes.Usage);

    private sealed record TrainSettings
    {
        public string? DataPath { get; init; }
        public required CharModelConfig Model { get; init; }
        public required TrainingOptions Training { get; init; }
        public string? OutputDirectory { get; init; }
        public string? ResumePath { get; init; }
        public int SampleLength { get; init; }
        public bool Distributed { get; init; }
        public int CheckReplicas { get; init; }
        public required string[] GivenModelOptions { get; init; }
        public required string[] GivenTrainingOptions { get; init; }
    }

    private static int Train(TrainSettings s)
    {
        if (s.Distributed) return TrainDistributed(s);
        if (MpiCommunicator.LauncherRankAndSize() is { Size: > 1 } launch)
        {
            if (launch.Rank > 0) return ExitCodes.Usage; // rank 0 says why: one line, not N
            throw new CliError($"mpiexec started {launch.Size} processes, but --distributed is not given: they would train separately into the same files; add --distributed, or run without mpiexec.", ExitCodes.Usage);
        }
        var run = Prepare(s, communicator: null);
        return Finish(s, run, RunTrainer(run, showProgress: true));
    }

    /// <summary>Everything a run needs, set up (on every rank, alike, without collectives).</summary>
    internal sealed record PreparedRun(CharLanguageModel Model, TrainingOptions Options, int[] Validation,
        string OutputDirectory, string Best, string Last, CharTrainer Trainer);

    private static PreparedRun Prepare(TrainSettings s, ICommunicator? communicator)
    {
        var corpus = CorpusSource.Load(s.DataPath);
        CharLanguageModel model;
        TrainingState? resumeState = null;
        var options = s.Training;
        if (s.ResumePath is not null)
        {
            var contents = Autograd.CharLm.Checkpoint.Load(s.ResumePath);
            resumeState = contents.State
                ?? throw new CliError($"{s.ResumePath}: the checkpoint has no training state to resume from.");
            model = contents.Model;
            CheckModelOptions(s, model.Config, s.ResumePath);
            options = MergeTrainingOptions(s, resumeState.Options);
        }
        else
        {
            model = new CharLanguageModel(Vocabulary.FromText(corpus.Text), s.Model, options.Seed);
        }
        if (communicator is { Rank: > 0 } && model.Config.Dropout > 0)
        {
            // Rank 0's weights are broadcast at the start; the seed here only gives each rank its own dropout masks.
            var own = new CharLanguageModel(model.Vocabulary, model.Config, model.Seed + communicator.Rank);
            own.CopyWeightsFrom(model);
            model = own;
        }

        int[] ids = Encode(model.Vocabulary, corpus, s.ResumePath);
        var (train, validation) = TextCorpus.Split(ids, 0.9);
        long needed = SequenceBatcher.MinimumLength(options.BatchSize, options.SequenceLength);
        if (train.Length < needed || validation.Length < 2)
            throw new CliError($"{corpus.Name}: too short: {ids.Length} characters give {train.Length} for training (90%), but --batch {options.BatchSize} × --seq-len {options.SequenceLength} needs at least {needed}, and validation (10%) needs 2; use a longer text or a smaller --batch/--seq-len.");
        if (communicator is not null && options.BatchSize < communicator.Size)
            throw new CliError($"--batch {options.BatchSize} is the global batch, split across the {communicator.Size} ranks: it must be at least {communicator.Size}.", ExitCodes.Usage);

        string outDir = s.OutputDirectory ?? Path.Combine("runs", DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        bool writes = communicator is null || communicator.Rank == 0;
        if (writes) Directory.CreateDirectory(outDir);
        string best = Path.Combine(outDir, "best.safetensors");
        string last = Path.Combine(outDir, "last.safetensors");

        var trainer = new CharTrainer(model, train, validation, options, resumeState, communicator)
        {
            BestCheckpointPath = best,
            LastCheckpointPath = last,
            ReplicaCheckInterval = s.CheckReplicas,
        };
        if (writes)
        {
            var console = ReportConsole();
            PrintSetup(console, corpus, model, options, train.Length, validation.Length, outDir, resumeState, trainer.OptimizerStateRestored, communicator);
        }
        return new PreparedRun(model, options, validation, outDir, best, last, trainer);
    }

    private static IAnsiConsole ReportConsole()
    {
        var console = AnsiConsole.Console;
        // Redirected output gets 80 columns by default; wider keeps each report on one line for log readers.
        if (!console.Profile.Capabilities.Interactive) console.Profile.Width = Math.Max(console.Profile.Width, 160);
        return console;
    }

    /// <summary>What the periodic validation reads: the start of the split unless --eval-chars covers it all.</summary>
    internal static string ValidationScope(PreparedRun run)
        => run.Trainer.PeriodicValidationSymbols < run.Validation.Length
            ? string.Create(CultureInfo.InvariantCulture, $"first {run.Trainer.PeriodicValidationSymbols:N0} chars")
            : string.Create(CultureInfo.InvariantCulture, $"whole split ({run.Validation.Length:N0} chars)");

    /// <summary>Trains, with the progress view when <paramref name="showProgress"/> (the process that reports).</summary>
    private static TrainingResult RunTrainer(PreparedRun run, bool showProgress)
    {
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // First Ctrl+C: stop after this step, still validate and save; a second one kills.
            if (cancel.IsCancellationRequested) return;
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            return showProgress ? TrainingView.Run(ReportConsole(), run.Trainer, run.Options, ValidationScope(run), cancel.Token) : run.Trainer.Run(cancel.Token);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>The loss curve, the plot, the final evaluation of the best checkpoint and the sample.</summary>
    private static int Finish(TrainSettings s, PreparedRun run, TrainingResult result)
    {
        var console = ReportConsole();
        string csv = Path.Combine(run.OutputDirectory, "loss.csv");
        LossCurve.WriteCsv(csv, run.Trainer.History);
        string png = Path.Combine(run.OutputDirectory, "loss.png");
        string? plotError = LossPlot.TrySave(png, run.Trainer.History, ValidationScope(run));

        // The final report uses the whole validation text and the best checkpoint as saved on disk: this run's,
        // or, when a resumed run never beat it, the one already in --out; else (nothing saved) the last model.
        bool bestOnDisk = run.Trainer.SavedBestThisRun || (s.ResumePath is not null && File.Exists(run.Best));
        var bestModel = bestOnDisk ? Autograd.CharLm.Checkpoint.Load(run.Best).Model : run.Model;
        var final = Evaluator.Evaluate(bestModel, run.Validation);
        var table = new Table().Border(TableBorder.Rounded).AddColumn("result").AddColumn("value");
        table.AddRow("steps", $"{result.Step:N0} ({result.StepsThisRun:N0} this run{(result.Cancelled ? ", interrupted" : "")})");
        table.AddRow("time", FormatTime(result.Elapsed));
        table.AddRow(bestOnDisk ? "best validation loss" : "validation loss (last model)", $"{final.NatsPerSymbol:F4} nats/char ({final.BitsPerSymbol:F4} bits/char) over {final.Symbols:N0} chars");
        if (result.SkippedSteps > 0) table.AddRow("skipped batches", $"{result.SkippedSteps} (non-finite loss or gradient)");
        table.AddRow("best checkpoint", bestOnDisk ? Markup.Escape(run.Best) : "none written (no validation beat the resumed checkpoint's best)");
        table.AddRow("last checkpoint", Markup.Escape(run.Last));
        table.AddRow("loss curve", Markup.Escape(csv));
        table.AddRow("plot", Markup.Escape(plotError is null ? png : $"not written: {plotError}"));
        console.Write(table);

        if (s.SampleLength > 0)
        {
            string sample = Sampler.Sample(bestModel, new SamplingOptions { Length = s.SampleLength, Temperature = 0.8, Seed = run.Options.Seed });
            console.Write(new Panel(new Text(sample)).Header("sample (temperature 0.8)").Border(BoxBorder.Rounded).Expand());
        }
        return result.Cancelled && result.StepsThisRun == 0 ? ExitCodes.Interrupted : ExitCodes.Success;
    }

    private static int[] Encode(Vocabulary vocabulary, CorpusSource corpus, string? checkpoint)
    {
        try
        {
            return vocabulary.Encode(corpus.Text, corpus.Name);
        }
        catch (UnknownSymbolException e) when (checkpoint is not null)
        {
            throw UnknownCharacters.Error(corpus.Name, e, checkpoint);
        }
    }

    private static void CheckModelOptions(TrainSettings s, CharModelConfig fromCheckpoint, string path)
    {
        foreach (string name in s.GivenModelOptions)
        {
            (string given, string saved) = name switch
            {
                "--cell" => (CharModelConfig.Name(s.Model.Cell), CharModelConfig.Name(fromCheckpoint.Cell)),
                "--hidden" => (s.Model.HiddenSize.ToString(CultureInfo.InvariantCulture), fromCheckpoint.HiddenSize.ToString(CultureInfo.InvariantCulture)),
                "--layers" => (s.Model.Layers.ToString(CultureInfo.InvariantCulture), fromCheckpoint.Layers.ToString(CultureInfo.InvariantCulture)),
                _ => (s.Model.Dropout.ToString(CultureInfo.InvariantCulture), fromCheckpoint.Dropout.ToString(CultureInfo.InvariantCulture)),
            };
            if (given != saved)
                throw new CliError($"{name} {given} conflicts with {path}, which holds {name[2..]} {saved}; model options come from the checkpoint when resuming.", ExitCodes.Usage);
        }
    }

    /// <summary>Options the user gave win; the rest come from the checkpoint's run; budgets are this run's.</summary>
    private static TrainingOptions MergeTrainingOptions(TrainSettings s, TrainingOptions saved)
    {
        var given = s.GivenTrainingOptions.ToHashSet();
        var o = s.Training;
        return o with
        {
            SequenceLength = given.Contains("--seq-len") ? o.SequenceLength : saved.SequenceLength,
            BatchSize = given.Contains("--batch") ? o.BatchSize : saved.BatchSize,
            LearningRate = given.Contains("--lr") ? o.LearningRate : saved.LearningRate,
            Optimizer = given.Contains("--optimizer") ? o.Optimizer : saved.Optimizer,
            Momentum = given.Contains("--momentum") ? o.Momentum : saved.Momentum,
            ClipNorm = given.Contains("--clip") ? o.ClipNorm : saved.ClipNorm,
            Schedule = given.Contains("--lr-schedule") ? o.Schedule : saved.Schedule,
            Seed = given.Contains("--seed") ? o.Seed : saved.Seed,
        };
    }

    private static void PrintSetup(IAnsiConsole console, CorpusSource corpus, CharLanguageModel model, TrainingOptions o,
        int trainChars, int validationChars, string outDir, TrainingState? resume, bool optimizerRestored, ICommunicator? communicator)
    {
        var c = model.Config;
        var table = new Table().Border(TableBorder.Rounded).AddColumn("setting").AddColumn("value");
        table.AddRow("data", Markup.Escape($"{corpus.Name}: {trainChars:N0} training + {validationChars:N0} validation chars, {model.Vocabulary.Count} symbols"));
        table.AddRow("model", $"{CharModelConfig.Name(c.Cell)}, hidden {c.HiddenSize}, {c.Layers} layer(s){(c.Dropout > 0 ? $", dropout {c.Dropout}" : "")}, {c.ParameterCount(model.Vocabulary.Count):N0} parameters");
        table.AddRow("batches", $"{o.BatchSize} × {o.SequenceLength} chars (contiguous streams, state carried)");
        if (communicator is not null)
            table.AddRow("distributed", $"{communicator.Size} rank(s), {o.BatchSize / communicator.Size}{(o.BatchSize % communicator.Size > 0 ? "-" + (o.BatchSize / communicator.Size + 1) : "")} rows each, gradients averaged ({Markup.Escape(communicator is MpiCommunicator mpi ? mpi.LibraryVersion : communicator.GetType().Name)})");
        table.AddRow("optimizer", $"{o.Optimizer.ToString().ToLowerInvariant()}, lr {o.LearningRate.ToString(CultureInfo.InvariantCulture)} ({o.Schedule.ToString().ToLowerInvariant()}), clip {(o.ClipNorm > 0 ? o.ClipNorm.ToString(CultureInfo.InvariantCulture) : "off")}");
        table.AddRow("budget", o.MaxSteps is long steps ? $"{steps:N0} steps" : $"{o.TimeBudget!.Value.TotalMinutes.ToString(CultureInfo.InvariantCulture)} minutes");
        if (resume is not null)
            table.AddRow("resumed", $"from step {resume.Step:N0}{(optimizerRestored ? " with optimizer state" : ", optimizer state reset (different optimizer)")}");
        table.AddRow("output", Markup.Escape(outDir));
        console.Write(table);
    }

    /// <summary>A duration as <c>m:ss</c>, or <c>h:mm:ss</c> from one hour on.</summary>
    internal static string FormatTime(TimeSpan t)
        => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"m\:ss", CultureInfo.InvariantCulture);
}
