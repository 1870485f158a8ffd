namespace Autograd.Nn;

/// <summary>Argument checks shared by the public entry points, so every one words a bad collection the same way.</summary>
internal static class Arguments
{
    /// <summary>Throws when an element of <paramref name="items"/> is null, naming the parameter and the index.</summary>
    /// <param name="items">The collection (itself already checked for null).</param>
    /// <param name="parameter">The public parameter's name.</param>
    /// <param name="operation">The member, for the message (e.g. <c>RnnModel.Forward</c>).</param>
    /// <exception cref="ArgumentException">An element is null.</exception>
    public static void ThrowIfNullElement<TItem>(IReadOnlyList<TItem?> items, string parameter, string operation) where TItem : class
    {
        for (int i = 0; i < items.Count; i++)
            if (items[i] is null) throw new ArgumentException($"{operation}: {parameter}[{i}] is null.", parameter);
    }
}
