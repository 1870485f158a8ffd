using System.Diagnostics;
using Autograd.CharLm;
using Spectre.Console;

namespace Autograd.Cli;

/// <summary>Shows a training run: a live progress bar on a terminal, plain lines otherwise.</summary>
internal static class TrainingView
{
    /// <summary>Runs <paramref name="trainer"/> to the end, showing its progress on <paramref name="console"/>.</summary>
    /// <param name="console">Where progress goes.</param>
    /// <param name="trainer">The prepared run.</param>
    /// <param name="options">Its options (for the budget shown).</param>
    /// <param name="validationScope">What the periodic checks read, e.g. "first 30,000 chars" (see <see cref="TrainCommand.ValidationScope"/>).</param>
    /// <param name="cancellationToken">Stops after the current step.</param>
    public static TrainingResult Run(IAnsiConsole console, CharTrainer trainer, TrainingOptions options, string validationScope, CancellationToken cancellationToken)
    {
        // Say what the periodic checks read (--eval-chars: the whole split unless a prefix is asked for), since
        // a prefix usually reads lower than the final figure over the whole split.
        trainer.Evaluated += report =>
            console.MarkupLine($"[grey]step {report.Step,7:N0}[/]  validation loss on the {validationScope} [bold]{report.Validation.NatsPerSymbol:F4}[/] nats/char ({report.Validation.BitsPerSymbol:F3} bits/char){(report.IsBest ? "  [green]best, saved[/]" : "")}");

        if (!console.Profile.Capabilities.Interactive)
        {
            // Redirected output: no live display, a line per validation (above) and one per ~10% of the budget.
            int lastDecile = -1;
            trainer.StepCompleted += r =>
            {
                int decile = (int)(r.Progress * 10);
                if (decile == lastDecile) return;
                lastDecile = decile;
                console.WriteLine(Describe(r, options));
            };
            return trainer.Run(cancellationToken);
        }

        TrainingResult? result = null;
        console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new ProgressBarColumn(), new PercentageColumn(), new TaskDescriptionColumn { Alignment = Justify.Left })
            .Start(context =>
            {
                var task = context.AddTask("starting", maxValue: 1000);
                var refresh = Stopwatch.StartNew();
                StepReport? latest = null;
                trainer.StepCompleted += r =>
                {
                    latest = r;
                    task.Value = r.Progress * 1000;
                    // Description updates are cheap, but redrawing every step of a fast model is not.
                    if (refresh.ElapsedMilliseconds < 100) return;
                    refresh.Restart();
                    task.Description = Markup.Escape(Describe(r, options));
                };
                result = trainer.Run(cancellationToken);
                if (latest is not null) task.Description = Markup.Escape(Describe(latest, options));
                task.Value = task.MaxValue;
                task.StopTask();
            });
        return result!;
    }

    private static string Describe(StepReport r, TrainingOptions options)
    {
        TimeSpan eta = options.TimeBudget is TimeSpan budget && (options.MaxSteps is null || r.Elapsed / budget >= r.Progress - 1e-9)
            ? budget - r.Elapsed
            : r.Progress > 0 ? r.Elapsed * ((1 - r.Progress) / r.Progress) : TimeSpan.Zero;
        if (eta < TimeSpan.Zero) eta = TimeSpan.Zero;
        return $"step {r.Step:N0}  loss {r.SmoothedLoss:F3}  lr {r.LearningRate:0.####e0}  {r.SymbolsPerSecond:N0} chars/s  ETA {TrainCommand.FormatTime(eta)}";
    }
}
