using Autograd.CharLm;
using Autograd.Nn.Serialization;

namespace Autograd.Cli;

/// <summary>Draws the loss curve as a PNG (ScottPlot, rendered by SkiaSharp; works headless).</summary>
internal static class LossPlot
{
    /// <summary>Saves the plot; returns null on success or a one-line reason it could not be drawn.</summary>
    /// <param name="path">The PNG file to write (atomically).</param>
    /// <param name="history">The run's loss curve.</param>
    /// <param name="validationScope">What each periodic check read, e.g. "first 30,000 chars" (for the legend).</param>
    public static string? TrySave(string path, IReadOnlyList<LossPoint> history, string validationScope)
    {
        if (history.Count == 0) return "no steps were taken";
        try
        {
            // Per-step training loss is noisy; plot means over windows of ~1% of the run.
            int window = Math.Max(1, history.Count / 100);
            var trainX = new List<double>();
            var trainY = new List<double>();
            for (int start = 0; start < history.Count; start += window)
            {
                int end = Math.Min(history.Count, start + window);
                double sum = 0;
                for (int i = start; i < end; i++) sum += history[i].TrainLoss;
                trainX.Add(history[end - 1].Step);
                trainY.Add(sum / (end - start));
            }
            var validation = history.Where(p => p.ValidationLoss is not null).ToList();

            var plot = new ScottPlot.Plot();
            var train = plot.Add.ScatterLine(trainX.ToArray(), trainY.ToArray());
            train.LegendText = "training (window mean)";
            train.LineWidth = 1.5f;
            if (validation.Count > 0)
            {
                var val = plot.Add.Scatter(validation.Select(p => (double)p.Step).ToArray(), validation.Select(p => p.ValidationLoss!.Value).ToArray());
                val.LegendText = $"validation ({validationScope})";
                val.LineWidth = 2;
                val.MarkerSize = 6;
            }
            plot.Title("Character-level language model");
            plot.XLabel("step");
            plot.YLabel("loss (nats/char)");
            plot.ShowLegend(ScottPlot.Alignment.UpperRight);
            using var image = plot.GetImage(900, 540);
            AtomicFile.WriteAllBytes(path, image.GetImageBytes(ScottPlot.ImageFormat.Png));
            return null;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A missing native renderer must not cost the user the run: checkpoints and CSV are already written.
            return e.Message.ReplaceLineEndings(" ");
        }
    }
}
