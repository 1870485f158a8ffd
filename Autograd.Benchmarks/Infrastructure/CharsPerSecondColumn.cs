using Autograd.Benchmarks.CharLm;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Autograd.Benchmarks.Infrastructure;

/// <summary>Characters per second, B·T / median step time, for benchmarks with a <c>Size</c> parameter of type <see cref="CharLmSize"/>.</summary>
public sealed class CharsPerSecondColumn : IColumn
{
    public string Id => nameof(CharsPerSecondColumn);
    public string ColumnName => "chars/s";
    public bool AlwaysShow => false;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Characters per second: B·T / median step time";

    public bool IsAvailable(Summary summary) => summary.BenchmarksCases.Any(HasSize);
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var median = summary[benchmarkCase]?.ResultStatistics?.Median;
        if (!HasSize(benchmarkCase) || median is not > 0) return "-";
        var size = (CharLmSize)benchmarkCase.Parameters["Size"];
        return (CharLmShape.Of(size).CharsPerStep / (median.Value * 1e-9)).ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
    }

    private static bool HasSize(BenchmarkCase benchmarkCase) =>
        benchmarkCase.Parameters.Items.Any(p => p.Name == "Size" && p.Value is CharLmSize);
}
