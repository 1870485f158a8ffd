using System.Globalization;
using System.Text;
using Autograd.Nn;
using Autograd.Nn.Serialization;

namespace Autograd.CharLm;

/// <summary>Writes a run's loss curve as CSV.</summary>
public static class LossCurve
{
    /// <summary>The CSV header line.</summary>
    public const string Header = "step,elapsed_s,train_loss,val_loss,val_bits,lr";

    /// <summary>
    /// Writes one row per step: <c>step,elapsed_s,train_loss,val_loss,val_bits,lr</c> (losses in
    /// nats/symbol, bits for validation too; validation columns empty where none was measured).
    /// Written atomically (<see cref="AtomicFile"/>); creates the folder if needed.
    /// </summary>
    /// <param name="path">The CSV file to create or replace.</param>
    /// <param name="points">The rows, in order (e.g. <see cref="CharTrainer.History"/>).</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">A point is null.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">Access is denied.</exception>
    public static void WriteCsv(string path, IEnumerable<LossPoint> points)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(points);
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder(Header).Append('\n');
        int index = 0;
        foreach (var p in points)
        {
            if (p is null) throw new ArgumentException($"LossCurve.WriteCsv: points[{index}] is null.", nameof(points));
            index++;
            sb.Append(p.Step.ToString(inv)).Append(',')
              .Append(p.ElapsedSeconds.ToString("F3", inv)).Append(',')
              .Append(p.TrainLoss.ToString("G6", inv)).Append(',');
            if (p.ValidationLoss is double v)
                sb.Append(v.ToString("G6", inv)).Append(',').Append((v / Math.Log(2)).ToString("G6", inv));
            else
                sb.Append(',');
            sb.Append(',').Append(p.LearningRate.ToString("G6", inv)).Append('\n');
        }
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        AtomicFile.WriteAllText(full, sb.ToString());
    }
}
