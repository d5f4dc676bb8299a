"""Questions from scene graphs: template generation, verification, export."""
