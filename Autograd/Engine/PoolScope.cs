namespace Autograd;

/// <summary>
/// The switch that makes new op results draw from the backend's pool (see <see cref="Tensor.Recycling"/>). It
/// flows with the async context like <see cref="Tensor.NoGrad"/>: an <c>await</c> inside a scope stays in it, and
/// a scope disposed out of order or in another flow throws instead of leaving a thread pooling for ever.
/// </summary>
internal static class PoolScope
{
    private enum PoolTag { }

    public static bool Active => FlowScope<PoolTag>.Active;

    /// <summary>Enters a pooled scope; dispose to leave (scopes nest).</summary>
    public static Scope Enter() => new(FlowScope<PoolTag>.Enter("Recycling"));

    /// <summary>Leaves pooling for the duration of the returned scope (e.g. for tensors that escape).</summary>
    public static Scope Suspend() => new(FlowScope<PoolTag>.Enter("Recycling", on: false));

    public readonly struct Scope(IDisposable frame) : IDisposable
    {
        public void Dispose() => frame?.Dispose();
    }
}
