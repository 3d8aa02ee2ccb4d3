"""Plot helpers of the course, grouped by topic (one module per topic).

Each helper takes ``ax=None``, returns the axes and never calls ``plt.show()``;
matplotlib is imported inside the functions, so importing the numeric code never
imports it.
"""
