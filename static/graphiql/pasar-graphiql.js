// Pasar UMKM's GraphiQL page: GraphiQL 3 with the explorer plugin, every file served by the app itself
// (static/graphiql/), no inline script, so the page runs under the app's Content-Security-Policy.
// The saved operations (static/graphiql/operations/*.graphql) come in the page as JSON, one tab each.
(function () {
  "use strict";

  var fetchURL = window.location.origin + window.location.pathname;
  var wsURL = fetchURL.replace(/^http/, "ws");
  var operations = JSON.parse(document.getElementById("pasar-operations").textContent);

  // GraphiQL 3 opens the first of `defaultTabs` with the variables it last stored, not the tab's: on a first visit
  // (nothing stored yet) store the first tab's, so that its Variables pane shows them.
  try {
    if (operations.length && !window.localStorage.getItem("graphiql:tabState")) {
      window.localStorage.setItem("graphiql:variables", operations[0].variables);
    }
  } catch (e) {
    // no localStorage (a private window may refuse it): the first tab opens with empty variables
  }

  var fetcher = GraphiQL.createFetcher({ url: fetchURL, subscriptionUrl: wsURL });
  var explorer = GraphiQLPluginExplorer.explorerPlugin();

  function Page() {
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      plugins: [explorer],
      visiblePlugin: explorer,
      defaultTabs: operations,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      inputValueDeprecation: true,
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(Page));
})();
